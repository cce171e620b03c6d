// Crash safety: SIGKILL of ternd while a client keeps roster sets in flight and ternctl adds accounts to
// the same data directory, and SIGKILL of ternctl in the middle of adding accounts. After each crash both
// SQLite files pass integrity_check, every acknowledged write is there (a roster set answered with a
// result, an adduser that exited 0), and a killed bulk add left all of its accounts or none.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

constexpr std::string_view sqlite3_cli = "/usr/bin/sqlite3";
constexpr int requests_in_flight = 100;
constexpr int bulk_accounts = 40;

std::string contact(int i) { return "contact" + std::to_string(i) + "@example.test"; }

std::string roster_set(int i)
{
    return "<iq type='set' id='set" + std::to_string(i) + "'><query xmlns='jabber:iq:roster'><item jid='" + contact(i) +
           "' name='Contact " + std::to_string(i) + "'><group>crash</group></item></query></iq>";
}

// The next IQ result; roster pushes (type set) to this resource are read past.
xml::Stanza next_result(XmppClient& client)
{
    for (;;) {
        xml::Stanza s = client.next_stanza();
        if (s.name() == "iq" && s.type() == "set") continue;
        INFO(s.serialize());
        REQUIRE(s.type() == "result");
        return s;
    }
}

int item_number(const xml::Stanza& result) { return std::stoi(std::string(result.id()).substr(3)); }

// Keeps about `requests_in_flight` roster sets unanswered, so the server is always writing, and kills it
// after `answers` results; returns the numbers of the items whose result arrived.
std::set<int> add_items_until_killed(XmppClient& client, TernProcess& server, int first, int answers)
{
    std::set<int> acknowledged;
    int sent = 0;
    while (static_cast<int>(acknowledged.size()) < answers) {
        std::string burst;
        for (; sent < static_cast<int>(acknowledged.size()) + requests_in_flight; ++sent) burst += roster_set(first + sent);
        client.send(burst);
        for (int i = 0; i < requests_in_flight / 4; ++i) acknowledged.insert(item_number(next_result(client)));
    }
    server.kill_hard();
    // Results already on their way count as acknowledged too.
    try {
        for (;;) {
            const Received r = client.next(std::chrono::seconds(2));
            if (r.closed() || !r.stanza) break;
            if (r.stanza->name() == "iq" && r.stanza->type() == "result") acknowledged.insert(item_number(*r.stanza));
        }
    } catch (const std::runtime_error&) {
        // A reset connection or a TLS record cut short: nothing more arrives.
    }
    return acknowledged;
}

std::set<std::string> roster_jids(XmppClient& client)
{
    client.send("<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>");
    const xml::Stanza reply = next_result(client);
    std::set<std::string> jids;
    for (const xml::Element item : reply.root().child("query", xmpp::ns::roster).children())
        jids.emplace(item.attr("jid"));
    return jids;
}

// While ternctl may be writing: the CLI waits for locks as ternd and ternctl do.
void check_integrity(const std::filesystem::path& file)
{
    INFO(file.string());
    REQUIRE(std::filesystem::exists(file));
    const RunResult r = run_program({std::string(sqlite3_cli), "-cmd", ".timeout 5000", file.string(), "PRAGMA integrity_check;"});
    CHECK(r.exit_code == 0);
    CHECK(r.output == "ok\n");
}

std::vector<std::string> ctl_args(const TernProcess& server, std::vector<std::string> command)
{
    std::vector<std::string> argv{ternctl_path(), "--config", server.config_path().string()};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

// Starts a program with `input` on stdin and its output discarded, and SIGKILLs it after `delay` unless
// it finished before. Returns the exit code, or -1 when it was killed. Safe on any thread (no doctest).
int run_killed_after(const std::vector<std::string>& argv, const std::string& input, std::chrono::microseconds delay)
{
    int in_pipe[2];
    if (::pipe(in_pipe) != 0) return -2;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in_pipe[0], 0);
        ::close(in_pipe[1]);
        const int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::dup2(null, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    (void)!::write(in_pipe[1], input.data(), input.size());
    ::close(in_pipe[1]);
    const auto give_up = std::chrono::steady_clock::now() + delay;
    int status = 0;
    while (std::chrono::steady_clock::now() < give_up) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Adds accounts with ternctl until told to stop: single ones (kept when ternctl exited 0) and bulk ones,
// SIGKILLed at ever later points of the time a whole bulk add takes.
struct AccountWriter {
    explicit AccountWriter(TernProcess& s, std::string p, std::chrono::microseconds bulk) :
        server(s), prefix(std::move(p)), bulk_duration(bulk) {}

    TernProcess& server;
    std::string prefix;
    std::chrono::microseconds bulk_duration;
    std::vector<std::string> created;      // adduser exited 0
    std::vector<std::string> bulk_killed;  // prefixes of the killed bulk adds
    int attempts = 0;

    void run(const std::stop_token& stop)
    {
        for (; !stop.stop_requested() && attempts < 100; ++attempts) {
            const std::string user = prefix + "u" + std::to_string(attempts);
            const RunResult r = run_program(ctl_args(server, {"adduser", user + "@localhost"}), "pw-" + user + "\n");
            if (r.exit_code == 0) created.push_back(user);

            const std::string bulk = prefix + "b" + std::to_string(attempts) + "x";
            const auto delay = bulk_duration * (50 + (attempts * 7) % 60) / 100;
            const int code = run_killed_after(ctl_args(server, {"adduser-bulk", bulk, std::to_string(bulk_accounts), "localhost"}),
                                              "pw-bulk\n", delay);
            if (code != 0) bulk_killed.push_back(bulk);
        }
    }
};

std::vector<std::string> listed_accounts(const TernProcess& server)
{
    const RunResult r = run_program(ctl_args(server, {"list"}));
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> accounts;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) accounts.push_back(line);
    return accounts;
}

void check_login(const TernProcess& server, const std::string& user, const std::string& password)
{
    INFO("account ", user);
    XmppClient client(server.starttls_port());
    CHECK(client.login(user, password, "x") == user + "@localhost/x");
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("crash: SIGKILL of ternd and of ternctl mid-write keeps the store consistent and every acknowledged write")
    {
        INFO("the sqlite3 command-line tool (Debian package sqlite3) checks the files");
        REQUIRE(std::filesystem::exists(sqlite3_cli));
        TernProcess server;
        // One account per round, each well below the server's roster size limit.
        const std::vector<std::string> owners{"owner0", "owner1", "owner2"};
        for (const auto& owner : owners) server.add_user(owner + "@localhost", "pw-" + owner);

        // How long one whole bulk add takes here, so the killed ones stop at every stage of it.
        const auto bulk_start = std::chrono::steady_clock::now();
        REQUIRE(run_program(ctl_args(server, {"adduser-bulk", "whole", std::to_string(bulk_accounts), "localhost"}),
                            "pw-bulk\n")
                    .exit_code == 0);
        const auto bulk_duration =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - bulk_start);
        server.start();

        std::vector<std::set<int>> acknowledged(owners.size());
        std::vector<std::string> created;
        std::vector<std::string> bulk_killed;
        for (std::size_t round = 0; round < owners.size(); ++round) {
            AccountWriter writer(server, "r" + std::to_string(round), bulk_duration);
            std::jthread adding([&](const std::stop_token& stop) { writer.run(stop); });
            {
                XmppClient owner(server.starttls_port());
                REQUIRE(owner.login(owners[round], "pw-" + owners[round], "crash") == owners[round] + "@localhost/crash");
                acknowledged[round] = add_items_until_killed(owner, server, 0, 300 + static_cast<int>(round) * 100);
            }
            // Accounts go on being added while ternd is down, then once more when it is back.
            std::this_thread::sleep_for(bulk_duration);
            check_integrity(server.dir() / "data" / "accounts.sqlite");
            check_integrity(server.dir() / "data" / "roster.sqlite");
            server.start();
            adding.request_stop();
            adding.join();
            CHECK(writer.attempts > 0);
            created.insert(created.end(), writer.created.begin(), writer.created.end());
            bulk_killed.insert(bulk_killed.end(), writer.bulk_killed.begin(), writer.bulk_killed.end());

            for (std::size_t r = 0; r <= round; ++r) {
                XmppClient owner(server.starttls_port());
                REQUIRE(owner.login(owners[r], "pw-" + owners[r], "check") == owners[r] + "@localhost/check");
                const std::set<std::string> stored = roster_jids(owner);
                CHECK(acknowledged[r].size() >= 300 + r * 100);
                for (const int i : acknowledged[r]) {
                    INFO("acknowledged roster item ", contact(i), " of ", owners[r]);
                    CHECK(stored.count(contact(i)) == 1);
                }
            }
        }
        check_integrity(server.dir() / "data" / "accounts.sqlite");

        const std::vector<std::string> accounts = listed_accounts(server);
        const auto listed = [&](const std::string& user) {
            return std::find(accounts.begin(), accounts.end(), user + "@localhost") != accounts.end();
        };
        REQUIRE(!created.empty());
        for (const auto& user : created) {
            CHECK(listed(user));
            check_login(server, user, "pw-" + user);
        }
        // A killed bulk add is all or nothing; when all, its accounts work.
        REQUIRE(!bulk_killed.empty());
        for (const auto& bulk : bulk_killed) {
            INFO("killed bulk add ", bulk);
            int present = 0;
            for (int i = 1; i <= bulk_accounts; ++i) present += listed(bulk + std::to_string(i)) ? 1 : 0;
            CHECK((present == 0 || present == bulk_accounts));
            if (present == bulk_accounts) check_login(server, bulk + std::to_string(bulk_accounts), "pw-bulk");
        }
    }
}
