// The roster and carbons modules: request checks (RFC 6121 §2.3.3, XEP-0280) in front of the server's
// account services, here a recording fake.
#include <doctest/doctest.h>

#include "../server/envelopes.hpp"
#include "../await_now.hpp"
#include "modules/modules.hpp"
#include "xml/tokenizer.hpp"

using namespace tern;
using namespace tern::server;

namespace {

struct FakeAccount final : AccountServices {
    std::vector<std::string> calls;
    IqResult answer;

    asio::awaitable<IqResult> roster_get(const Requester& session, std::optional<std::string_view> version,
                                         xml::Writer& reply) override
    {
        calls.push_back("get " + session.jid.str() + (version ? " ver=" + std::string(*version) : ""));
        if (answer) reply.open("query").attr("xmlns", "jabber:iq:roster").attr("ver", "7").close();
        co_return answer;
    }
    asio::awaitable<IqResult> roster_set(const Requester&, const RosterChange& change) override
    {
        std::string call = "set " + change.jid.str() + " name=" + change.name;
        for (const auto& g : change.groups) call += " group=" + g;
        calls.push_back(call);
        co_return answer;
    }
    asio::awaitable<IqResult> roster_remove(const Requester&, const xmpp::Jid& contact) override
    {
        calls.push_back("remove " + contact.str());
        co_return answer;
    }
    void set_carbons(const Requester& session, bool enabled) override
    {
        calls.push_back(std::string(enabled ? "carbons on " : "carbons off ") + session.jid.str());
    }
};

struct Fixture {
    config::Config config = config::default_config();
    IqDispatcher dispatcher;
    Hooks hooks;
    FakeAccount account;
    xmpp::Jid jid = *xmpp::Jid::parse("romeo@montague.lit/orchard");
    Requester requester{jid, "192.0.2.1", 4000, nullptr, nullptr, &account};

    Fixture() { modules::register_all(dispatcher, hooks, config, nullptr); }

    std::string ask(std::string_view text, Target target = Target::Account)
    {
        xml::NamespaceScope scope;
        scope.bind({}, "jabber:client");
        auto stanza = xml::Stanza::parse(text, scope);
        REQUIRE(stanza);
        return test::text(test::await_now(dispatcher.dispatch(std::move(*stanza), requester, target, {})));
    }

    std::string set(std::string_view item)
    {
        return ask("<iq type='set' id='r'><query xmlns='jabber:iq:roster'>" + std::string(item) + "</query></iq>");
    }
};

bool is_error(const std::string& reply, std::string_view condition)
{
    return reply.find("type='error'") != std::string::npos &&
           reply.find("<" + std::string(condition) + " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>") != std::string::npos;
}

}  // namespace

TEST_SUITE("modules")
{
    TEST_CASE("roster get passes the version the client has, if any, and returns the server's answer")
    {
        Fixture f;
        CHECK(f.ask("<iq type='get' id='g1'><query xmlns='jabber:iq:roster'/></iq>") ==
              "<iq type='result' id='g1'><query xmlns='jabber:iq:roster' ver='7'/></iq>");
        f.ask("<iq type='get' id='g2'><query xmlns='jabber:iq:roster' ver=''/></iq>");
        f.ask("<iq type='get' id='g3'><query xmlns='jabber:iq:roster' ver='ver14'/></iq>");
        CHECK(f.account.calls == std::vector<std::string>{"get romeo@montague.lit/orchard",
                                                          "get romeo@montague.lit/orchard ver=",
                                                          "get romeo@montague.lit/orchard ver=ver14"});
        f.account.answer = make_unexpected(xmpp::StanzaError::of(xmpp::StanzaErrorCondition::InternalServerError));
        CHECK(is_error(f.ask("<iq type='get' id='g4'><query xmlns='jabber:iq:roster'/></iq>"), "internal-server-error"));
    }

    TEST_CASE("roster set hands over one checked item; 'remove' removes and other subscription values are ignored")
    {
        Fixture f;
        CHECK(f.set("<item jid='Nurse@Montague.lit' name='Nurse'><group>Servants</group><group>Capulet &amp; co</group></item>") ==
              "<iq type='result' id='r'/>");
        f.set("<item jid='juliet@montague.lit' subscription='both' ask='subscribe'/>");
        f.set("<item jid='tybalt@capulet.lit' subscription='remove'><group>ignored</group></item>");
        CHECK(f.account.calls == std::vector<std::string>{"set nurse@montague.lit name=Nurse group=Servants group=Capulet & co",
                                                          "set juliet@montague.lit name=",
                                                          "remove tybalt@capulet.lit"});
        f.account.answer = make_unexpected(xmpp::StanzaError::of(xmpp::StanzaErrorCondition::ItemNotFound));
        CHECK(is_error(f.set("<item jid='nobody@montague.lit' subscription='remove'/>"), "item-not-found"));
    }

    TEST_CASE("roster set rejects malformed items as RFC 6121 §2.3.3 says, without touching the roster")
    {
        Fixture f;
        const std::string long_text(1024, 'x');
        std::string many_groups;
        for (int i = 0; i < 65; ++i) many_groups += "<group>g" + std::to_string(i) + "</group>";
        const std::pair<std::string, const char*> cases[] = {
            {"", "bad-request"},
            {"<item jid='a@montague.lit'/><item jid='b@montague.lit'/>", "bad-request"},
            {"<item name='no jid'/>", "bad-request"},
            {"<item jid='a@b@c'/>", "bad-request"},
            {"<item jid='juliet@montague.lit/balcony'/>", "bad-request"},
            {"<item jid='romeo@montague.lit'/>", "not-allowed"},
            {"<item jid='a@montague.lit' name='" + long_text + "'/>", "not-acceptable"},
            {"<item jid='a@montague.lit'><group></group></item>", "not-acceptable"},
            {"<item jid='a@montague.lit'><group>" + long_text + "</group></item>", "not-acceptable"},
            {"<item jid='a@montague.lit'><group>Friends</group><group>Friends</group></item>", "bad-request"},
            {"<item jid='a@montague.lit'>" + many_groups + "</item>", "not-acceptable"},
        };
        for (const auto& [item, condition] : cases) {
            CAPTURE(item.substr(0, 80));
            const std::string reply = f.set(item);
            CHECK(is_error(reply, condition));
            CHECK(reply.find("id='r'") != std::string::npos);
        }
        CHECK(f.account.calls.empty());
        // The limits themselves are fine.
        CHECK(f.set("<item jid='a@montague.lit' name='" + std::string(1023, 'n') + "'><group>" + std::string(1023, 'g') +
                    "</group></item>") == "<iq type='result' id='r'/>");
    }

    TEST_CASE("roster is answered for the own account only, and needs the server's account services")
    {
        Fixture f;
        CHECK(is_error(f.ask("<iq type='get' id='s' to='montague.lit'><query xmlns='jabber:iq:roster'/></iq>", Target::Server),
                       "service-unavailable"));
        CHECK(is_error(f.ask("<iq type='get' id='o' to='juliet@montague.lit'><query xmlns='jabber:iq:roster'/></iq>",
                             Target::OtherAccount),
                       "service-unavailable"));
        f.requester.account = nullptr;
        CHECK(is_error(f.ask("<iq type='get' id='n'><query xmlns='jabber:iq:roster'/></iq>"), "service-unavailable"));
        CHECK(f.account.calls.empty());
    }

    TEST_CASE("carbons enable and disable switch the session's copies, at the server or the account")
    {
        Fixture f;
        CHECK(f.ask("<iq type='set' id='e'><enable xmlns='urn:xmpp:carbons:2'/></iq>") == "<iq type='result' id='e'/>");
        CHECK(f.ask("<iq type='set' id='d' to='montague.lit'><disable xmlns='urn:xmpp:carbons:2'/></iq>", Target::Server) ==
              "<iq type='result' id='d' from='montague.lit'/>");
        CHECK(f.account.calls ==
              std::vector<std::string>{"carbons on romeo@montague.lit/orchard", "carbons off romeo@montague.lit/orchard"});
        CHECK(is_error(f.ask("<iq type='get' id='g'><enable xmlns='urn:xmpp:carbons:2'/></iq>"), "service-unavailable"));
    }

    TEST_CASE("disco lists carbons at the server and the account, the roster at the account")
    {
        Fixture f;
        const std::string server =
            f.ask("<iq type='get' id='d'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", Target::Server);
        const std::string account = f.ask("<iq type='get' id='d'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        CHECK(server.find("<feature var='urn:xmpp:carbons:2'/>") != std::string::npos);
        CHECK(account.find("<feature var='urn:xmpp:carbons:2'/>") != std::string::npos);
        CHECK(server.find("jabber:iq:roster") == std::string::npos);
        CHECK(account.find("<feature var='jabber:iq:roster'/>") != std::string::npos);
    }
}
