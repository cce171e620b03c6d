#include "loadgen/options.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace tern::loadgen;
using namespace std::chrono_literals;

namespace {

tern::expected<std::optional<Options>, std::string> parse(std::vector<std::string_view> args)
{
    return parse_options(args);
}

Options parse_ok(std::vector<std::string_view> args)
{
    auto o = parse(std::move(args));
    REQUIRE(o.has_value());
    REQUIRE(o->has_value());
    return **o;
}

std::string parse_error(std::vector<std::string_view> args)
{
    auto o = parse(std::move(args));
    REQUIRE_FALSE(o.has_value());
    return o.error();
}

}  // namespace

TEST_SUITE("tools") {

TEST_CASE("loadgen parses the idle scenario the measurement script uses")
{
    const Options o = parse_ok({"idle", "--port", "5222", "--users", "load", "--password", "pw", "--domain", "localhost",
                                "--count", "10000", "--connect-rate", "500", "--hold", "10", "--server-pid", "4242",
                                "--mechanism", "SCRAM-SHA-1", "--json"});
    CHECK(o.scenario == Scenario::Idle);
    CHECK(o.port == 5222);
    CHECK(o.transport == Transport::StartTls);
    CHECK(o.user_prefix == "load");
    CHECK(o.count == 10000);
    CHECK(o.accounts == 10000);
    CHECK(o.connect_rate == 500);
    CHECK(o.hold == 10s);
    CHECK(o.server_pid == 4242);
    CHECK(o.hash() == tern::crypto::Hash::Sha1);
    CHECK_FALSE(o.channel_binding());
    CHECK(o.json_only);
    CHECK(o.scram_cache);  // SCRAM keys kept between an account's logins unless --no-scram-cache
    CHECK_FALSE(parse_ok({"login", "--users", "u", "--password", "pw", "--count", "5", "--no-scram-cache"}).scram_cache);
    // Loopback server: sources spread over 127.0.0.0/8 by default.
    CHECK(o.sources == AddressRange{0x7f000001, 0x7f00fffe});
    // 10000 connections at 500/s, a 10 s hold, two step timeouts, 120 s spare.
    CHECK(o.effective_deadline() == 20s + 10s + 40s + 120s);
}

TEST_CASE("loadgen parses the login scenario with its own defaults")
{
    const Options o = parse_ok({"login", "--users", "u", "--password", "pw", "--count", "500", "--accounts", "50",
                                "--concurrency", "8", "--direct-tls", "--mechanism", "SCRAM-SHA-256-PLUS", "--timeout",
                                "0.5", "--deadline", "30", "--sources", "none"});
    CHECK(o.scenario == Scenario::Login);
    CHECK(o.transport == Transport::DirectTls);
    CHECK(o.accounts == 50);
    CHECK(o.concurrency == 8);
    CHECK(o.step_timeout == 500ms);
    CHECK(o.effective_deadline() == 30s);
    CHECK(o.hash() == tern::crypto::Hash::Sha256);
    CHECK(o.channel_binding());
    CHECK_FALSE(o.sources);
    CHECK(o.host == "127.0.0.1");
    CHECK(o.domain == "localhost");
    CHECK(parse_ok({"login", "--users", "u", "--password", "p", "--count", "3"}).accounts == 3);
}

TEST_CASE("loadgen parses the message scenario: pairs of accounts, window or rate")
{
    const Options o = parse_ok({"message", "--users", "m", "--password", "pw", "--pairs", "100", "--duration", "5",
                                "--window", "16", "--body-size", "200", "--drain", "1.5", "--connect-rate", "100"});
    CHECK(o.scenario == Scenario::Message);
    CHECK(o.pairs == 100);
    CHECK(o.count == 200);     // sessions
    CHECK(o.accounts == 200);  // m1 .. m200
    CHECK(o.window == 16);
    CHECK(o.message_rate == 0);
    CHECK(o.body_bytes == 200);
    CHECK(o.duration == 5s);
    CHECK(o.drain == 1.5s);
    // 200 logins at 100/s, 5 s of sending, 1.5 s of drain, two step timeouts, 120 s spare.
    CHECK(o.effective_deadline() == 2s + 5s + 1500ms + 40s + 120s);

    const Options d = parse_ok({"message", "--users", "m", "--password", "pw", "--pairs", "2"});
    CHECK(d.window == 1);
    CHECK(d.body_bytes == 100);
    CHECK(d.duration == 10s);
    CHECK(d.drain == 2s);
    const Options r = parse_ok({"message", "--users", "m", "--password", "pw", "--pairs", "2", "--rate", "500"});
    CHECK(r.message_rate == 500);
    CHECK(r.window == 100);  // with --rate the window is only a cap
    CHECK(parse_ok({"message", "--users", "m", "--password", "pw", "--pairs", "2", "--rate", "5", "--window", "3"})
              .window == 3);
}

TEST_CASE("loadgen refuses message options outside the message scenario and bad message values")
{
    CHECK(parse_error({"message", "--users", "u", "--password", "p"}) == "--pairs is required");
    CHECK(parse_error({"message", "--users", "u", "--password", "p", "--pairs", "2", "--count", "4"}) ==
          "the message scenario takes --pairs, not --count or --accounts");
    CHECK(parse_error({"login", "--users", "u", "--password", "p", "--count", "4", "--pairs", "2"}) ==
          "--pairs is for the message scenario");
    CHECK(parse_error({"idle", "--rate", "5"}) == "--rate is for the message and mixed scenarios");
    CHECK(parse_error({"idle", "--duration", "5"}) == "--duration is for the message, extdisco and mixed scenarios");
    CHECK(parse_error({"message", "--window", "0"}) == "--window: expected a number from 1 to 100000, got '0'");
    CHECK(parse_error({"message", "--body-size", "70000"}) == "--body-size: expected a number from 1 to 65536, got '70000'");
    CHECK(parse_error({"message", "--rate", "0"}) == "--rate: expected messages per second above 0, got '0'");
    CHECK(parse_error({"message", "--duration", "0"}) == "--duration: expected seconds above 0, got '0'");
    CHECK(parse_error({"message", "--drain", "-1"}) == "--drain: expected seconds, got '-1'");
}

TEST_CASE("loadgen parses the extdisco scenario: connections, window, service type or credentials")
{
    const Options o = parse_ok({"extdisco", "--users", "e", "--password", "pw", "--connections", "50", "--window", "8",
                                "--duration", "3", "--service-type", "turn", "--server-pid", "77"});
    CHECK(o.scenario == Scenario::Extdisco);
    CHECK(o.count == 50);
    CHECK(o.accounts == 50);
    CHECK(o.window == 8);
    CHECK(o.duration == 3s);
    CHECK(o.service_type == "turn");
    CHECK(o.credentials_host.empty());
    CHECK(o.effective_deadline() == 3s + 2s + 40s + 120s);
    const Options d = parse_ok({"extdisco", "--users", "e", "--password", "pw", "--connections", "1"});
    CHECK(d.window == 1);
    CHECK(d.service_type.empty());
    const Options c = parse_ok({"extdisco", "--users", "e", "--password", "pw", "--connections", "1", "--credentials",
                                "turn.example.org", "--service-type", "turns"});
    CHECK(c.credentials_host == "turn.example.org");

    CHECK(parse_error({"extdisco", "--users", "e", "--password", "pw"}) == "--connections is required");
    CHECK(parse_error({"extdisco", "--users", "e", "--password", "pw", "--count", "5"}) ==
          "the extdisco scenario takes --connections, not --count");
    CHECK(parse_error({"extdisco", "--users", "e", "--password", "pw", "--connections", "1", "--credentials", "h"}) ==
          "--credentials needs --service-type (the service's type, e.g. turns)");
    CHECK(parse_error({"extdisco", "--service-type", "a'b"}) ==
          "--service-type: expected a service type such as turn or stun, got 'a'b'");
    CHECK(parse_error({"login", "--connections", "5"}) == "--connections is for the extdisco scenario");
    CHECK(parse_error({"message", "--service-type", "turn"}) == "--service-type is for the extdisco scenario");
}

TEST_CASE("loadgen parses the handshake scenario: direct TLS implied, no accounts needed")
{
    const Options o = parse_ok({"handshake", "--port", "5223", "--count", "1000", "--concurrency", "16"});
    CHECK(o.scenario == Scenario::Handshake);
    CHECK(o.transport == Transport::DirectTls);
    CHECK(o.count == 1000);
    CHECK(o.concurrency == 16);
    CHECK(parse_ok({"handshake", "--count", "1", "--direct-tls"}).transport == Transport::DirectTls);
    CHECK(parse_error({"handshake", "--count", "1", "--plain"}) == "the handshake scenario needs TLS, not --plain");
    CHECK(parse_error({"handshake"}) == "--count is required");
    CHECK(parse_error({"handshake", "--count", "1", "--window", "2"}) == "--window is for the message and extdisco scenarios");
}

TEST_CASE("loadgen parses the mixed scenario: sessions, a total rate, a report interval")
{
    const Options o = parse_ok({"mixed", "--users", "s", "--password", "pw", "--count", "1000", "--rate", "250",
                                "--duration", "1800", "--interval", "60", "--body-size", "40"});
    CHECK(o.scenario == Scenario::Mixed);
    CHECK(o.count == 1000);
    CHECK(o.message_rate == 250);
    CHECK(o.duration == 1800s);
    CHECK(o.interval == 60s);
    CHECK(o.body_bytes == 40);
    CHECK(o.effective_deadline() == 1800s + 2s + 40s + 120s);
    const Options d = parse_ok({"mixed", "--users", "s", "--password", "pw", "--count", "2"});
    CHECK(d.message_rate == 100);
    CHECK(d.interval == 60s);
    CHECK(parse_error({"mixed", "--interval", "0"}) == "--interval: expected seconds above 0, got '0'");
    CHECK(parse_error({"mixed", "--rate", "-3"}) == "--rate: expected events per second above 0, got '-3'");
    CHECK(parse_error({"message", "--interval", "5"}) == "--interval is for the mixed scenario");
}

TEST_CASE("loadgen numbers accounts from --first so several generators can split them")
{
    const Options o = parse_ok({"idle", "--users", "load", "--password", "pw", "--count", "3", "--first", "19001"});
    CHECK(o.first == 19001);
    CHECK(o.account(0) == "load19001");
    CHECK(o.account(2) == "load19003");
    CHECK(parse_ok({"idle", "--users", "u", "--password", "p", "--count", "1"}).account(0) == "u1");
    CHECK(parse_ok({"idle", "--users", "u", "--password", "p", "--count", "1", "--first", "0"}).account(0) == "u0");
    CHECK(parse_error({"idle", "--first", "x"}) == "--first: expected a number from 0 to 1000000000, got 'x'");
    CHECK(scenario_name(Scenario::Mixed) == "mixed");
    CHECK(usage().find("--first N") != std::string_view::npos);
    CHECK(usage().find("20,000") != std::string_view::npos);
}

TEST_CASE("loadgen source ranges: explicit, single, and none for a non-loopback server")
{
    CHECK(parse_ok({"idle", "--users", "u", "--password", "p", "--count", "1", "--sources", "127.1.0.1-127.1.0.9"})
              .sources == AddressRange{0x7f010001, 0x7f010009});
    CHECK_FALSE(parse_ok({"idle", "--users", "u", "--password", "p", "--count", "1", "--host", "10.0.0.1"}).sources);
    CHECK(parse_address_range("10.0.0.7") == AddressRange{0x0a000007, 0x0a000007});
    const AddressRange r{0x7f000001, 0x7f000003};
    CHECK(r.size() == 3);
    CHECK(r.at(0) == 0x7f000001);
    CHECK(r.at(2) == 0x7f000003);
    CHECK(r.at(3) == 0x7f000001);
    CHECK(format_ipv4(0x7f00fffe) == "127.0.255.254");
    for (const std::string_view bad : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1..2.3", "a.b.c.d", "01234.1.1.1", "1.2.3.4-"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_address_range(bad));
    }
    CHECK(parse_address_range("127.0.0.9-127.0.0.1").error() == "the range '127.0.0.9-127.0.0.1' ends before it starts");
}

TEST_CASE("loadgen refuses bad command lines with one line each")
{
    CHECK(parse_error({}) == "no scenario given (see tern-loadgen --help)");
    CHECK(parse_error({"storm"}) == "unknown scenario 'storm' (idle, login, message, extdisco, handshake or mixed)");
    CHECK(parse_error({"idle", "--password", "p", "--count", "1"}) == "--users PREFIX is required");
    CHECK(parse_error({"idle", "--users", "u", "--count", "1"}) == "--password is required");
    CHECK(parse_error({"idle", "--users", "u", "--password", "p"}) == "--count is required");
    CHECK(parse_error({"idle", "--users", "u", "--password", "p", "--count", "0"}) ==
          "--count: expected a number from 1 to 10000000, got '0'");
    CHECK(parse_error({"idle", "--users", "u", "--password", "p", "--count", "1", "--port", "70000"}) ==
          "--port: expected a port from 1 to 65535, got '70000'");
    CHECK(parse_error({"idle", "--users", "u", "--password", "p", "--count", "1", "--hold", "-1"}) ==
          "--hold: expected seconds, got '-1'");
    CHECK(parse_error({"idle", "--users", "u", "--password", "p", "--count", "1", "--timeout", "0"}) ==
          "--timeout: expected seconds above 0, got '0'");
    CHECK(parse_error({"idle", "--users", "u", "--password", "p", "--count", "1", "--mechanism", "PLAIN"}) ==
          "--mechanism: expected SCRAM-SHA-1, SCRAM-SHA-256, SCRAM-SHA-1-PLUS or SCRAM-SHA-256-PLUS, got 'PLAIN'");
    CHECK(parse_error({"idle", "--users", "u", "--password", "p", "--count", "2", "--accounts", "1"}) ==
          "--accounts is for the login scenario");
    CHECK(parse_error({"login", "--users", "u", "--password", "p", "--count", "1", "--plain", "--direct-tls"}) ==
          "--direct-tls and --plain exclude each other");
    CHECK(parse_error({"login", "--users", "u", "--password", "p", "--count", "1", "--plain", "--mechanism",
                       "SCRAM-SHA-1-PLUS"}) == "--mechanism SCRAM-SHA-1-PLUS needs TLS (channel binding)");
    CHECK(parse_error({"login", "--users", "u", "--password", "p", "--count", "1", "--sources", "x"}) ==
          "--sources: not an IPv4 address range: 'x'");
    CHECK(parse_error({"login", "--users"}) == "--users needs a value");
    CHECK(parse_error({"login", "--frobnicate", "1"}) == "unknown option '--frobnicate' (see tern-loadgen --help)");
    CHECK(parse({"--help"}).value() == std::nullopt);
    CHECK(parse({"idle", "-h"}).value() == std::nullopt);
    CHECK(usage().starts_with("usage: tern-loadgen SCENARIO [options]\n"));
}

}  // TEST_SUITE
