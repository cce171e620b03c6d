// XEP-0279 Server IP Check through a real IqDispatcher.
#include <doctest/doctest.h>

#include "modules/registrations.hpp"
#include "server/iq_dispatcher.hpp"

using namespace tern;
using namespace tern::server;

namespace {

struct Sic {
    IqDispatcher dispatcher;
    xmpp::Jid jid = *xmpp::Jid::parse("romeo@montague.lit/orchard");

    Sic() { modules::register_sic(dispatcher); }

    std::string ask(std::string_view iq, std::string_view address, std::uint16_t port, Target target = Target::Server)
    {
        xml::NamespaceScope scope;
        scope.bind({}, "jabber:client");
        auto stanza = xml::Stanza::parse(iq, scope);
        REQUIRE(stanza);
        const Requester who{jid, address, port, nullptr};
        std::string out;
        dispatcher.dispatch(*stanza, who, target, {}, out);
        return out;
    }
};

}  // namespace

TEST_SUITE("modules")
{
    TEST_CASE("sic:1 returns the requester's address and port (XEP-0279 examples 2 and 3)")
    {
        Sic s;
        CHECK(s.ask("<iq id='ik2s7159' type='get'><address xmlns='urn:xmpp:sic:1'/></iq>", "192.168.4.1", 12345) ==
              "<iq type='result' id='ik2s7159'><address xmlns='urn:xmpp:sic:1'><ip>192.168.4.1</ip>"
              "<port>12345</port></address></iq>");
        CHECK(s.ask("<iq id='ik2s7159' type='get' to='montague.lit'><address xmlns='urn:xmpp:sic:1'/></iq>",
                    "2001:db8::9:1", 12345) ==
              "<iq type='result' id='ik2s7159' from='montague.lit'><address xmlns='urn:xmpp:sic:1'><ip>2001:db8::9:1</ip>"
              "<port>12345</port></address></iq>");
    }

    TEST_CASE("sic:0 as published answers <ip/> with the address as the element's text")
    {
        Sic s;
        CHECK(s.ask("<iq id='a' type='get'><ip xmlns='urn:xmpp:sic:0'/></iq>", "192.0.2.1", 4000) ==
              "<iq type='result' id='a'><ip xmlns='urn:xmpp:sic:0'>192.0.2.1</ip></iq>");
        CHECK(s.ask("<iq id='a' type='get'><ip xmlns='urn:xmpp:sic:0'/></iq>", "2001:db8::1", 0) ==
              "<iq type='result' id='a'><ip xmlns='urn:xmpp:sic:0'>2001:db8::1</ip></iq>");
    }

    TEST_CASE("sic:0 answers <address/> with <ip/> and <port/> children, as ejabberd and Prosody do")
    {
        Sic s;
        CHECK(s.ask("<iq id='a' type='get'><address xmlns='urn:xmpp:sic:0'/></iq>", "192.0.2.9", 4000) ==
              "<iq type='result' id='a'><address xmlns='urn:xmpp:sic:0'><ip>192.0.2.9</ip><port>4000</port>"
              "</address></iq>");
        CHECK(s.ask("<iq id='a' type='get'><address xmlns='urn:xmpp:sic:0'/></iq>", "192.0.2.9", 0) ==
              "<iq type='result' id='a'><address xmlns='urn:xmpp:sic:0'><ip>192.0.2.9</ip></address></iq>");
    }

    TEST_CASE("sic answers at the server and at the own bare JID, forbids it at another account's")
    {
        Sic s;
        const std::string own = s.ask("<iq id='b' type='get' to='romeo@montague.lit'><address xmlns='urn:xmpp:sic:1'/></iq>",
                                      "192.0.2.9", 4000, Target::Account);
        CHECK(own.find("<ip>192.0.2.9</ip>") != std::string::npos);
        for (const char* query : {"<address xmlns='urn:xmpp:sic:1'/>", "<address xmlns='urn:xmpp:sic:0'/>",
                                  "<ip xmlns='urn:xmpp:sic:0'/>"}) {
            CAPTURE(query);
            const std::string other = s.ask("<iq id='c' type='get' to='juliet@montague.lit'>" + std::string(query) +
                                                "</iq>",
                                            "192.0.2.9", 4000, Target::OtherAccount);
            CHECK(other.find("type='error'") != std::string::npos);
            CHECK(other.find("<forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>") != std::string::npos);
            CHECK(other.find("192.0.2.9") == std::string::npos);
        }
    }

    TEST_CASE("sic refuses set and reports a connection without a known address as an internal error")
    {
        Sic s;
        CHECK(s.ask("<iq id='d' type='set'><address xmlns='urn:xmpp:sic:1'/></iq>", "192.0.2.9", 4000)
                  .find("<service-unavailable") != std::string::npos);
        CHECK(s.ask("<iq id='e' type='get'><address xmlns='urn:xmpp:sic:1'/></iq>", "unknown", 0)
                  .find("<internal-server-error") != std::string::npos);
    }

    TEST_CASE("sic is listed by disco at the server and the account, not for other accounts")
    {
        Sic s;
        const Requester who{s.jid, "192.0.2.9", 1, nullptr};
        CHECK(s.dispatcher.features(Target::Server, who) == std::vector<std::string>{"urn:xmpp:sic:0", "urn:xmpp:sic:1"});
        CHECK(s.dispatcher.features(Target::Account, who) == std::vector<std::string>{"urn:xmpp:sic:0", "urn:xmpp:sic:1"});
    }
}
