// Many people behind one address (a NAT, an office, a carrier-grade NAT) on a real ternd with its default
// limits (issue 12, item 2): logged-in sessions are not limited per address the way unauthenticated
// connections are, and failed logins from that address slow the answers down without refusing anybody.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

using Clock = std::chrono::steady_clock;

void add_users(TernProcess& server, const std::string& prefix, int count, const std::string& password)
{
    server.write_config();
    const auto r = run_program({ternctl_path(), "--config", server.config_path().string(), "adduser-bulk", prefix,
                                std::to_string(count), "localhost"},
                               password + "\n", std::chrono::seconds(120));
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
}

bool answers_ping(XmppClient& client)
{
    client.send("<iq type='get' id='still-there' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    const xml::Stanza reply = client.next_stanza(10s);
    return reply.name() == "iq" && reply.attr("type") == "result" && reply.attr("id") == "still-there";
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("shared address: 1,000 sessions from 127.0.0.1 with default limits, then 5 wrong logins and a right one")
    {
        TernProcess server;  // default [limits]
        // 100 accounts with 10 resources each (max_resources_per_account's default): 1,000 sessions.
        add_users(server, "user", 100, "secret");
        server.add_user("late@localhost", "late's own");
        server.start();

        std::vector<std::unique_ptr<XmppClient>> sessions;
        for (int i = 0; i < 1000; ++i) {
            const std::string user = "user" + std::to_string(1 + i % 100);
            const std::string resource = "r" + std::to_string(i / 100);
            auto client = std::make_unique<XmppClient>(server.starttls_port());
            const std::string jid = client->login(user, "secret", resource);
            REQUIRE_MESSAGE(jid == user + "@localhost/" + resource, "session ", i + 1);
            sessions.push_back(std::move(client));
        }

        // Someone at that address guesses; each answer is a failure, none is a refusal.
        for (int i = 0; i < 5; ++i) {
            XmppClient guesser(server.starttls_port());
            guesser.open_stream();
            guesser.starttls();
            CHECK(guesser.scram("SCRAM-SHA-256", "late", "guess " + std::to_string(i)) == "not-authorized");
        }
        // The right password from the same address gets in (after a short delay at most).
        XmppClient right(server.starttls_port());
        CHECK(right.login("late", "late's own", "after-guesses") == "late@localhost/after-guesses");

        // The thousand sessions are all still there.
        CHECK(answers_ping(*sessions.front()));
        CHECK(answers_ping(*sessions.back()));
        CHECK(server.log().find("reason=max_connections_per_ip") == std::string::npos);
    }

    TEST_CASE("shared address: unauthenticated connections are capped per address, logged-in ones are not")
    {
        TernProcess server;
        server.set("limits", "max_unauthenticated_per_ip", "4");
        server.add_user("alice@localhost", "wonderland");
        server.add_user("bob@localhost", "builder");
        server.start();

        // Four half-open streams from 127.0.0.7 fill its unauthenticated slots.
        std::vector<std::unique_ptr<XmppClient>> idle;
        for (int i = 0; i < 4; ++i) {
            idle.push_back(XmppClient::from_address(server.starttls_port(), "127.0.0.7"));
            CHECK(idle.back()->open_stream().name() == "features");
        }
        auto fifth = XmppClient::from_address(server.starttls_port(), "127.0.0.7");
        CHECK(fifth->wait_closed());
        CHECK(server.wait_for_log("reason=max_connections_per_ip"));

        // From another address, ten sessions log in one after another: each frees its slot by logging in.
        std::vector<std::unique_ptr<XmppClient>> sessions;
        for (int i = 0; i < 10; ++i) {
            sessions.push_back(XmppClient::from_address(server.starttls_port(), "127.0.0.8"));
            CHECK(sessions.back()->login("alice", "wonderland", "r" + std::to_string(i)) ==
                  "alice@localhost/r" + std::to_string(i));
        }
        // Once the half-open streams go, 127.0.0.7 may log in too.
        idle.clear();
        bool admitted = false;
        for (int attempt = 0; attempt < 100 && !admitted; ++attempt) {
            auto again = XmppClient::from_address(server.starttls_port(), "127.0.0.7");
            try {
                admitted = again->login("bob", "builder", "late") == "bob@localhost/late";
            } catch (const std::runtime_error&) {
                std::this_thread::sleep_for(20ms);  // the server has not seen the closes yet
            }
        }
        CHECK(admitted);
    }
}
