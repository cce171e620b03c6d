// Account enumeration through SASL (issue 12, item 4) on a real ternd: an unknown username must look like a
// known one on the wire (SCRAM salt and iteration count, stable across restarts) and in time (PLAIN).
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <vector>

#include "tern_process.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

// iterations well above the 4096 default, so a fixed count for unknown users shows on the wire and in time.
constexpr const char* iterations = "100000";

// The attributes of a SCRAM server-first message ("r=…,s=…,i=…").
std::map<char, std::string> attributes(const std::string& message)
{
    std::map<char, std::string> out;
    std::size_t start = 0;
    while (start < message.size()) {
        std::size_t end = message.find(',', start);
        if (end == std::string::npos) end = message.size();
        if (end - start >= 2 && message[start + 1] == '=') out[message[start]] = message.substr(start + 2, end - start - 2);
        start = end + 1;
    }
    return out;
}

std::map<char, std::string> server_first(TernProcess& server, const std::string& user, const char* mechanism)
{
    XmppClient client(server.starttls_port());
    client.open_stream();
    client.starttls();
    const std::string message = client.scram_server_first(mechanism, user);
    REQUIRE_MESSAGE(!message.starts_with("failure:"), message);
    return attributes(message);
}

// One wrong-password PLAIN login from its own loopback address (so no per-address failure budget applies);
// returns the time from <auth/> to <failure/>.
std::chrono::microseconds plain_failure(TernProcess& server, const std::string& user, int n)
{
    auto client = XmppClient::from_address(server.starttls_port(), "127.0.4." + std::to_string(10 + n));
    client->open_stream();
    client->starttls();
    const auto start = std::chrono::steady_clock::now();
    const std::string outcome = client->plain(user, "not-the-password");
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    CHECK(outcome == "not-authorized");
    return took;
}

std::chrono::microseconds median(std::vector<std::chrono::microseconds> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("enumeration: an unknown user's SCRAM challenge has the configured iterations and a salt stable across restarts")
    {
        TernProcess server;
        server.set("sasl", "scram_iterations", iterations);
        server.add_user("alice@localhost", "wonderland");
        server.start();
        for (const char* mechanism : {"SCRAM-SHA-1", "SCRAM-SHA-256"}) {
            CAPTURE(mechanism);
            const auto known = server_first(server, "alice", mechanism);
            const auto unknown = server_first(server, "mallory", mechanism);
            CHECK(known.at('i') == iterations);
            CHECK(unknown.at('i') == iterations);
            CHECK(unknown.at('s').size() == known.at('s').size());
            // The same attributes: nothing but the values tells them apart.
            std::string known_keys, unknown_keys;
            for (const auto& [key, value] : known) known_keys += key;
            for (const auto& [key, value] : unknown) unknown_keys += key;
            CHECK(unknown_keys == known_keys);
        }
        const std::string salt = server_first(server, "mallory", "SCRAM-SHA-256").at('s');
        CHECK(server_first(server, "mallory", "SCRAM-SHA-256").at('s') == salt);
        CHECK(server_first(server, "trudy", "SCRAM-SHA-256").at('s') != salt);

        // A real salt survives a restart; so must a fake one, or comparing two runs tells them apart.
        REQUIRE(server.stop() == 0);
        server.start();
        CHECK(server_first(server, "mallory", "SCRAM-SHA-256").at('s') == salt);

        // The secret it is derived from lives in data_dir, readable by ternd's user only.
        struct stat st{};
        REQUIRE(::stat((server.dir() / "data" / "sasl_secret").c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        CHECK(st.st_size == 32);
    }

    TEST_CASE("enumeration: a PLAIN failure for an unknown user takes as long as one for a known user")
    {
        TernProcess server;
        server.set("sasl", "scram_iterations", iterations);
        server.add_user("alice@localhost", "wonderland");
        server.start();
        constexpr int tries = 9;
        std::vector<std::chrono::microseconds> known, unknown;
        for (int i = 0; i < tries; ++i) {
            known.push_back(plain_failure(server, "alice", 2 * i));
            unknown.push_back(plain_failure(server, "mallory", 2 * i + 1));
        }
        const auto known_median = median(known);
        const auto unknown_median = median(unknown);
        MESSAGE("PLAIN failure, median of ", tries, ": known ", known_median.count(), " us, unknown ",
                unknown_median.count(), " us");
        // Generous: the same PBKDF2 work on both paths; a fixed 4096 iterations would be 24 times faster.
        CHECK(unknown_median * 2 >= known_median);
        CHECK(known_median * 2 >= unknown_median);
    }
}
