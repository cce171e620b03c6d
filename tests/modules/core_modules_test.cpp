// ping, version and disco as registered by register_all, answered through the dispatcher.
#include <doctest/doctest.h>

#include "../server/envelopes.hpp"
#include "../await_now.hpp"
#include "modules/modules.hpp"
#include "xml/tokenizer.hpp"

using namespace tern;
using namespace tern::server;

namespace {

struct Fixture {
    config::Config config = config::default_config();
    IqDispatcher dispatcher;
    Hooks hooks;
    xmpp::Jid jid = *xmpp::Jid::parse("alice@localhost/phone");
    Requester requester{jid, "127.0.0.1", 4000};

    explicit Fixture(bool hide_version = false)
    {
        config.server.hide_version = hide_version;
        modules::register_all(dispatcher, hooks, config, nullptr);
    }

    std::string ask(std::string_view text, Target target = Target::Server)
    {
        xml::NamespaceScope scope;
        scope.bind({}, "jabber:client");
        auto stanza = xml::Stanza::parse(text, scope);
        REQUIRE(stanza);
        return test::text(test::await_now(dispatcher.dispatch(std::move(*stanza), requester, target, {})));
    }
};

}  // namespace

TEST_SUITE("modules")
{
    TEST_CASE("ping is answered with an empty result at the server and the account")
    {
        Fixture f;
        CHECK(f.ask("<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>") ==
              "<iq type='result' id='p' from='localhost'/>");
        CHECK(f.ask("<iq type='get' id='q'><ping xmlns='urn:xmpp:ping'/></iq>", Target::Account) ==
              "<iq type='result' id='q'/>");
    }

    TEST_CASE("version names tern unless hidden")
    {
        Fixture shown;
        CHECK(shown.ask("<iq type='get' id='v'><query xmlns='jabber:iq:version'/></iq>") ==
              std::string("<iq type='result' id='v'><query xmlns='jabber:iq:version'><name>tern</name><version>") +
                  TERN_VERSION + "</version></query></iq>");
        Fixture hidden(true);
        CHECK(hidden.ask("<iq type='get' id='v'><query xmlns='jabber:iq:version'/></iq>").find("service-unavailable") !=
              std::string::npos);
    }

    TEST_CASE("disco#info lists the server identity and exactly the registered features")
    {
        Fixture f;
        const std::string out = f.ask("<iq type='get' id='d'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        CHECK(out.find("<identity category='server' type='im' name='tern'/>") != std::string::npos);
        for (const char* feature : {"http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
                                    "jabber:iq:version", "urn:xmpp:ping"}) {
            CAPTURE(feature);
            CHECK(out.find(std::string("<feature var='") + feature + "'/>") != std::string::npos);
        }
        Fixture hidden(true);
        CHECK(hidden.ask("<iq type='get' id='d'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
                  .find("jabber:iq:version") == std::string::npos);
    }

    TEST_CASE("disco#info on the account has the account identity; unknown nodes are item-not-found")
    {
        Fixture f;
        const std::string account =
            f.ask("<iq type='get' id='a'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", Target::Account);
        CHECK(account.find("<identity category='account' type='registered'/>") != std::string::npos);
        CHECK(account.find("jabber:iq:version") == std::string::npos);  // a server feature only
        CHECK(f.ask("<iq type='get' id='n'><query xmlns='http://jabber.org/protocol/disco#info' node='x'/></iq>")
                  .find("<item-not-found") != std::string::npos);
        CHECK(f.ask("<iq type='get' id='i'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>") ==
              "<iq type='result' id='i'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
    }
}
