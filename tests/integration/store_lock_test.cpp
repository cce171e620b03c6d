// The store never stalls the I/O threads: while another process holds a SQLite write lock on the roster
// database for 5 s (BEGIN IMMEDIATE), a session's roster set waits for it on the blocking pool, and two
// other sessions on each of the two workers keep answering pings promptly. Before the store calls moved
// off the workers, the roster set held its worker for the whole busy timeout.
#include <doctest/doctest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tern_process.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;
using namespace std::chrono_literals;

namespace {

constexpr auto lock_held = 5s;
constexpr auto ping_bound = 100ms;  // a generous behaviour bound, not a latency figure

// Another process holding the write lock on `database` until it exits (a python3 sqlite3 script).
class LockHolder {
public:
    explicit LockHolder(const std::filesystem::path& database)
    {
        const std::string script = "import sqlite3, sys, time\n"
                                   "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                                   "c.execute('BEGIN IMMEDIATE')\n"
                                   "print('locked', flush=True)\n"
                                   "time.sleep(" + std::to_string(lock_held.count()) + ")\n"
                                   "c.execute('ROLLBACK')\n";
        const std::string command = "/usr/bin/python3 -c \"" + script + "\" '" + database.string() + "'";
        pipe_ = popen(command.c_str(), "r");
        REQUIRE(pipe_ != nullptr);
        char line[64] = {};
        REQUIRE(std::fgets(line, sizeof line, pipe_) != nullptr);
        REQUIRE(std::string(line) == "locked\n");
    }
    ~LockHolder() { wait(); }
    int wait()
    {
        if (!pipe_) return status_;
        status_ = pclose(std::exchange(pipe_, nullptr));
        return status_;
    }

private:
    FILE* pipe_ = nullptr;
    int status_ = -1;
};

// The answer to the IQ with `id`; roster pushes and other stanzas are read past.
xml::Stanza reply_to(XmppClient& client, std::string_view id, std::chrono::milliseconds timeout)
{
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        REQUIRE(left.count() > 0);
        xml::Stanza s = client.next_stanza(left);
        if (s.name() == "iq" && s.id() == id) return s;
    }
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("a SQLite write lock held by another process stalls no session on any worker")
    {
        TernProcess server;
        server.set("server", "workers", "2");
        for (int i = 0; i < 5; ++i) server.add_user("user" + std::to_string(i) + "@localhost", "pw");
        server.start();

        // Connections are spread over the workers in turn: 0 and 2 on one, 1 and 3 on the other.
        std::vector<std::unique_ptr<XmppClient>> pingers;
        for (int i = 0; i < 4; ++i) {
            pingers.push_back(std::make_unique<XmppClient>(server.starttls_port()));
            pingers.back()->login("user" + std::to_string(i), "pw");
        }
        XmppClient writer(server.starttls_port());
        writer.login("user4", "pw");

        LockHolder lock(server.dir() / "data" / "roster.sqlite");
        const auto locked_at = std::chrono::steady_clock::now();
        // The roster write waits for the lock (up to the store's busy timeout)...
        writer.send("<iq type='set' id='w'><query xmlns='jabber:iq:roster'><item jid='friend@localhost'/></query></iq>");
        // ...and so does a subscription request, whose roster updates are also writes.
        writer.send("<presence type='subscribe' to='user0@localhost'/>");

        int rounds = 0;
        std::chrono::milliseconds slowest{0};
        while (std::chrono::steady_clock::now() - locked_at < lock_held - 500ms) {
            for (std::size_t i = 0; i < pingers.size(); ++i) {
                const std::string id = "p" + std::to_string(rounds) + "-" + std::to_string(i);
                const auto sent = std::chrono::steady_clock::now();
                pingers[i]->send("<iq type='get' id='" + id + "' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
                const xml::Stanza pong = reply_to(*pingers[i], id, 10s);
                const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
                CHECK(pong.type() == "result");
                INFO("session " << i << " round " << rounds);
                CHECK(took < ping_bound);
                slowest = std::max(slowest, took);
            }
            ++rounds;
            std::this_thread::sleep_for(20ms);  // a steady trickle of pings, not a flood
        }
        MESSAGE("ping rounds while locked: " << rounds << ", slowest answer " << slowest.count() << " ms");
        CHECK(rounds > 10);

        // Once the lock is gone the roster set is answered (a result, or an error had the busy timeout won).
        CHECK(lock.wait() == 0);
        const xml::Stanza written = reply_to(writer, "w", 10s);
        CHECK((written.type() == "result" || written.type() == "error"));
        // The writer's session is still in order: its next request is answered after the roster set.
        writer.send("<iq type='get' id='after' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
        CHECK(reply_to(writer, "after", 10s).type() == "result");
    }
}
