// XEP-0215 External Service Discovery on a real ternd: services, filters, TURN REST credentials,
// restrictions, the older namespaces, disco, and the push after a configuration reload.
#include <doctest/doctest.h>

#include <ctime>
#include <thread>

#include "crypto/crypto.hpp"
#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

const std::string turn_config = R"(
[turn]
host = "127.0.0.1"
secret = "s3cret"
ttl = 3600
)";

struct Fixture {
    TernProcess server;

    explicit Fixture(const std::string& services = turn_config)
    {
        server.set_extra_toml(services);
        server.add_user("alice@localhost", "wonderland");
        server.add_user("bob@localhost", "builder");
        server.start();
    }

    std::unique_ptr<XmppClient> login(const std::string& user = "alice", const std::string& password = "wonderland")
    {
        auto client = std::make_unique<XmppClient>(server.starttls_port());
        REQUIRE(client->login(user, password, "phone") == user + "@localhost/phone");
        return client;
    }
};

xml::Stanza ask(XmppClient& client, const std::string& id, const std::string& payload, const std::string& to = "localhost")
{
    client.send("<iq type='get' id='" + id + "' to='" + to + "'>" + payload + "</iq>");
    xml::Stanza reply = client.next_stanza();
    REQUIRE(reply.name() == "iq");
    REQUIRE(reply.id() == id);
    return reply;
}

std::vector<xml::Element> services_of(const xml::Stanza& reply)
{
    std::vector<xml::Element> out;
    for (const xml::Element child : reply.root().first_child_element().children()) out.push_back(child);
    return out;
}

std::string error_of(const xml::Stanza& reply)
{
    if (reply.type() != "error") return "";
    return std::string(reply.root().child("error", xmpp::ns::client).first_child_element().name());
}

std::time_t parse_utc(std::string_view text)
{
    std::tm tm{};
    REQUIRE(text.size() == 20);
    REQUIRE(::strptime(std::string(text).c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr);
    return ::timegm(&tm);
}

// A TURN REST credential as coturn checks it: "<expiry>:<id>", base64(HMAC-SHA1(secret, username)).
void check_turn_credentials(const xml::Element& service, const std::string& secret, const std::string& id,
                            std::chrono::seconds ttl)
{
    const std::string username{service.attr("username")};
    const auto colon = username.find(':');
    REQUIRE(colon != std::string::npos);
    CHECK(username.substr(colon + 1) == id);
    const long long expiry = std::stoll(username.substr(0, colon));
    const long long now = std::time(nullptr);
    CHECK(expiry >= now + ttl.count() - 5);
    CHECK(expiry <= now + ttl.count() + 1);
    CHECK(parse_utc(service.attr("expires")) == expiry);
    CHECK(service.attr("password") == crypto::base64_encode(crypto::hmac(crypto::Hash::Sha1, secret, username)));
    CHECK(service.attr("restricted") == "1");
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("extdisco: <services/> lists the [turn] entries with inline TURN REST credentials")
    {
        Fixture f;
        auto client = f.login();
        const xml::Stanza reply = ask(*client, "s1", "<services xmlns='urn:xmpp:extdisco:2'/>");
        REQUIRE(reply.type() == "result");
        CHECK(reply.attr("from") == "localhost");
        const auto services = services_of(reply);
        REQUIRE(services.size() == 4);
        const std::pair<const char*, const char*> expected[] = {
            {"stun", "udp"}, {"turn", "udp"}, {"turn", "tcp"}, {"turns", "tcp"}};
        for (std::size_t i = 0; i < 4; ++i) {
            CAPTURE(i);
            CHECK(services[i].attr("type") == expected[i].first);
            CHECK(services[i].attr("transport") == expected[i].second);
            CHECK(services[i].attr("host") == "127.0.0.1");
            CHECK(services[i].attr("port") == (i == 3 ? "5349" : "3478"));
        }
        CHECK_FALSE(services[0].has_attr("username"));
        CHECK_FALSE(services[0].has_attr("restricted"));
        for (std::size_t i = 1; i < 4; ++i) check_turn_credentials(services[i], "s3cret", "alice@localhost", std::chrono::seconds(3600));
    }

    TEST_CASE("extdisco: a type filter, <credentials/> by host and type, item-not-found")
    {
        Fixture f;
        auto client = f.login();
        const xml::Stanza turn = ask(*client, "t1", "<services xmlns='urn:xmpp:extdisco:2' type='turn'/>");
        CHECK(turn.root().first_child_element().attr("type") == "turn");
        const auto turn_services = services_of(turn);
        REQUIRE(turn_services.size() == 2);
        for (const auto& s : turn_services) CHECK(s.attr("type") == "turn");

        const xml::Stanza credentials =
            ask(*client, "c1", "<credentials xmlns='urn:xmpp:extdisco:2'><service host='127.0.0.1' type='turns'/></credentials>");
        REQUIRE(credentials.type() == "result");
        const auto matched = services_of(credentials);
        REQUIRE(matched.size() == 1);
        CHECK(matched[0].attr("port") == "5349");
        check_turn_credentials(matched[0], "s3cret", "alice@localhost", std::chrono::seconds(3600));

        // Monal asks for credentials of STUN services too: the entry comes back, without credentials.
        const xml::Stanza stun = ask(*client, "c2",
                                     "<credentials xmlns='urn:xmpp:extdisco:2'><service host='127.0.0.1' type='stun' "
                                     "port='3478'/></credentials>");
        REQUIRE(stun.type() == "result");
        REQUIRE(services_of(stun).size() == 1);
        CHECK_FALSE(services_of(stun)[0].has_attr("password"));

        CHECK(error_of(ask(*client, "c3",
                           "<credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.elsewhere' type='turn'/>"
                           "</credentials>")) == "item-not-found");
    }

    TEST_CASE("extdisco: urn:xmpp:extdisco:1 answers in its own namespace, 0.1 answers <stun/>")
    {
        Fixture f;
        auto client = f.login();
        const xml::Stanza v1 = ask(*client, "v1", "<services xmlns='urn:xmpp:extdisco:1'/>");
        CHECK(v1.root().first_child_element().ns() == "urn:xmpp:extdisco:1");
        CHECK(services_of(v1).size() == 4);
        const xml::Stanza c1 =
            ask(*client, "v1c", "<credentials xmlns='urn:xmpp:extdisco:1'><service host='127.0.0.1' type='turn' "
                                "port='3478'/></credentials>");
        CHECK(c1.root().first_child_element().ns() == "urn:xmpp:extdisco:1");
        CHECK(services_of(c1).size() == 2);

        const xml::Stanza v01 = ask(*client, "v01", "<stun xmlns='http://www.xmpp.org/extensions/xep-0215.html#ns'/>");
        REQUIRE(v01.type() == "result");
        const auto servers = services_of(v01);
        REQUIRE(servers.size() == 1);
        CHECK(servers[0].name() == "server");
        CHECK(servers[0].attr("host") == "127.0.0.1");
        CHECK(servers[0].attr("port") == "3478");
        CHECK(servers[0].attr("transport") == "udp");
    }

    TEST_CASE("extdisco: restricted to an allow-list, hidden in disco and forbidden for everyone else")
    {
        Fixture f(turn_config + "allow = [\"alice@localhost\"]\n");
        auto alice = f.login();
        auto bob = f.login("bob", "builder");

        const auto features = [](XmppClient& c) {
            const xml::Stanza info = ask(c, "d", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
            std::vector<std::string> out;
            for (const xml::Element e : info.root().first_child_element().children())
                if (e.name() == "feature") out.emplace_back(e.attr("var"));
            return out;
        };
        const auto has = [](const std::vector<std::string>& list, std::string_view feature) {
            return std::find(list.begin(), list.end(), feature) != list.end();
        };
        const auto alice_features = features(*alice);
        for (const char* ns : {"urn:xmpp:extdisco:2", "urn:xmpp:extdisco:1", "urn:xmpp:extdisco:0",
                               "http://www.xmpp.org/extensions/xep-0215.html#ns", "urn:xmpp:sic:1", "urn:xmpp:sic:0"})
            CHECK_MESSAGE(has(alice_features, ns), ns);
        const auto bob_features = features(*bob);
        CHECK_FALSE(has(bob_features, "urn:xmpp:extdisco:2"));
        CHECK_FALSE(has(bob_features, "urn:xmpp:extdisco:1"));
        CHECK(has(bob_features, "urn:xmpp:sic:1"));

        CHECK(error_of(ask(*bob, "b1", "<services xmlns='urn:xmpp:extdisco:2'/>")) == "forbidden");
        CHECK(error_of(ask(*bob, "b2",
                           "<credentials xmlns='urn:xmpp:extdisco:2'><service host='127.0.0.1' type='turn'/></credentials>")) ==
              "forbidden");
        CHECK(ask(*alice, "a1", "<services xmlns='urn:xmpp:extdisco:2'/>").type() == "result");
    }

    TEST_CASE("extdisco: after SIGHUP, changed services are pushed to the sessions that asked for that type")
    {
        Fixture f;
        auto turn_watcher = f.login();
        auto stun_watcher = f.login("bob", "builder");
        REQUIRE(ask(*turn_watcher, "w1", "<services xmlns='urn:xmpp:extdisco:2' type='turn'/>").type() == "result");
        REQUIRE(ask(*stun_watcher, "w2", "<services xmlns='urn:xmpp:extdisco:2' type='stun'/>").type() == "result");
        auto bystander = std::make_unique<XmppClient>(f.server.starttls_port());
        REQUIRE(bystander->login("alice", "wonderland", "tablet") == "alice@localhost/tablet");

        // A new secret (the turn entries change), no turns entry; the stun entry stays as it was.
        f.server.set_extra_toml("[turn]\nhost = \"127.0.0.1\"\nsecret = \"rotated\"\nttl = 3600\nturns = false\n");
        f.server.write_config();
        f.server.reload();
        REQUIRE(f.server.wait_for_log("event=ternd.reloaded"));

        const xml::Stanza push = turn_watcher->next_stanza();
        CHECK(push.name() == "iq");
        CHECK(push.type() == "set");
        CHECK(push.attr("from") == "localhost");
        CHECK(push.attr("to") == "alice@localhost/phone");
        const xml::Element services = push.root().first_child_element();
        CHECK(services.ns() == "urn:xmpp:extdisco:2");
        CHECK(services.attr("type") == "turn");
        const auto changed = services_of(push);
        REQUIRE(changed.size() == 2);
        for (const auto& s : changed) {
            CHECK(s.attr("action") == "modify");
            CHECK(s.attr("type") == "turn");
            check_turn_credentials(s, "rotated", "alice@localhost", std::chrono::seconds(3600));
        }
        turn_watcher->send("<iq type='result' id='" + std::string(push.id()) + "' to='localhost'/>");

        // Nothing for the stun watcher or the session that never asked: their next stanza is a ping's answer.
        for (XmppClient* quiet : {stun_watcher.get(), bystander.get()}) {
            quiet->send("<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
            const xml::Stanza next = quiet->next_stanza();
            CHECK(next.id() == "p");
            CHECK(next.type() == "result");
        }
        // The session that got the push is still fine.
        turn_watcher->send("<iq type='get' id='p2' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
        CHECK(turn_watcher->next_stanza().id() == "p2");
    }

    TEST_CASE("extdisco: a reload that removes all services pushes the removals and drops the feature")
    {
        Fixture f;
        auto client = f.login();
        REQUIRE(ask(*client, "w", "<services xmlns='urn:xmpp:extdisco:2'/>").type() == "result");
        f.server.set_extra_toml("");
        f.server.write_config();
        f.server.reload();
        REQUIRE(f.server.wait_for_log("event=ternd.reloaded"));
        const xml::Stanza push = client->next_stanza();
        CHECK(push.type() == "set");
        const auto removed = services_of(push);
        REQUIRE(removed.size() == 4);
        for (const auto& s : removed) CHECK(s.attr("action") == "remove");
        CHECK(error_of(ask(*client, "g", "<services xmlns='urn:xmpp:extdisco:2'/>")) == "service-unavailable");
    }
}
