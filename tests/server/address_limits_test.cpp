#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "server/address_limits.hpp"

using namespace tern::server;
using namespace std::chrono_literals;

namespace {

AddressLimitSettings settings(std::uint32_t total, std::uint32_t unauthenticated, std::uint32_t failures = 5,
                              std::chrono::seconds max_delay = 10s)
{
    return {total, unauthenticated, failures, max_delay, 64};
}

const auto t0 = AddressLimits::Clock::time_point{} + 1h;

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("address limits: unauthenticated connections are capped, authenticated ones only by the total")
    {
        AddressLimits limits(settings(5, 2));
        CHECK(limits.try_connect("10.0.0.1"));
        CHECK(limits.try_connect("10.0.0.1"));
        CHECK_FALSE(limits.try_connect("10.0.0.1"));  // two not yet logged in
        CHECK(limits.try_connect("10.0.0.2"));
        limits.authenticated("10.0.0.1");
        limits.authenticated("10.0.0.1");
        CHECK(limits.connections("10.0.0.1").unauthenticated == 0);
        CHECK(limits.try_connect("10.0.0.1"));
        limits.authenticated("10.0.0.1");
        CHECK(limits.try_connect("10.0.0.1"));
        limits.authenticated("10.0.0.1");
        CHECK(limits.try_connect("10.0.0.1"));
        CHECK(limits.connections("10.0.0.1").total == 5);
        CHECK_FALSE(limits.try_connect("10.0.0.1"));  // the total
        limits.disconnected("10.0.0.1", true);
        CHECK(limits.connections("10.0.0.1").total == 4);
        CHECK(limits.connections("10.0.0.1").unauthenticated == 1);
        limits.disconnected("10.0.0.1", false);
        CHECK(limits.connections("10.0.0.1").unauthenticated == 0);
        for (int i = 0; i < 3; ++i) limits.disconnected("10.0.0.1", true);
        CHECK(limits.connections("10.0.0.1").total == 0);
    }

    TEST_CASE("address limits: a thousand people behind one address who log in")
    {
        AddressLimits limits;  // the defaults
        const std::string nat = limits.key("198.51.100.1");
        for (int i = 0; i < 1000; ++i) {
            REQUIRE(limits.try_connect(nat));
            CHECK(limits.auth_checked(nat, "user" + std::to_string(i % 2) + "@example.org", t0, false) == 0ms);
            limits.authenticated(nat);
        }
        CHECK(limits.connections(nat).total == 1000);
    }

    TEST_CASE("address limits: IPv6 addresses count per /64, IPv4-mapped as IPv4")
    {
        AddressLimits limits(settings(10, 1));
        CHECK(limits.key("2001:db8:0:1::a") == limits.key("2001:db8:0:1:ffff::b"));
        CHECK(limits.key("::ffff:192.0.2.1") == "192.0.2.1");
        CHECK(limits.try_connect(limits.key("2001:db8:0:1::a")));
        CHECK_FALSE(limits.try_connect(limits.key("2001:db8:0:1::b")));
        CHECK(limits.try_connect(limits.key("2001:db8:0:2::a")));
        limits.set_settings({10, 1, 5, 10s, 128});
        CHECK(limits.try_connect(limits.key("2001:db8:0:1::b")));
    }

    TEST_CASE("address limits: failures delay answers, doubling past the free ones, capped; never a refusal")
    {
        AddressLimits limits(settings(100, 10, 3, 10s));
        // The delay comes from the failures before the check, so it is the same for a right password.
        CHECK(limits.auth_checked("a", "", t0, true) == 0ms);
        CHECK(limits.auth_checked("a", "", t0, true) == 0ms);
        CHECK(limits.auth_checked("a", "", t0, true) == 0ms);
        CHECK(limits.delay("a", t0) == 1s);
        CHECK(limits.auth_checked("a", "", t0, true) == 1s);
        CHECK(limits.auth_checked("a", "", t0, true) == 2s);
        CHECK(limits.auth_checked("a", "", t0, true) == 4s);
        CHECK(limits.auth_checked("a", "", t0, true) == 8s);
        CHECK(limits.auth_checked("a", "", t0, true) == 10s);
        for (int i = 0; i < 50; ++i) CHECK(limits.auth_checked("a", "", t0, true) == 10s);
        CHECK(limits.auth_checked("a", "", t0, false) == 10s);  // a right password waits as long
        CHECK(limits.delay("b", t0) == 0ms);                    // other addresses are not slowed
        // The failures drain at 3 a minute from the most a record keeps (3 + 8).
        CHECK(limits.delay("a", t0 + 2min) == 4s);
        CHECK(limits.delay("a", t0 + 4min) == 0ms);
    }

    TEST_CASE("address limits: failures on an account delay it from every address, but refuse nobody")
    {
        AddressLimits limits(settings(100, 10, 2, 10s));
        for (int i = 0; i < 4; ++i)
            limits.auth_checked("10.0.0." + std::to_string(i), "victim@example.org", t0, true);
        CHECK(limits.auth_checked("10.9.9.9", "victim@example.org", t0, false) == 4s);
        CHECK(limits.auth_checked("10.9.9.9", "other@example.org", t0, false) == 0ms);
    }

    TEST_CASE("address limits: records of many addresses expire, a few per event")
    {
        AddressLimits limits(settings(100, 10, 5, 10s));
        for (int i = 0; i < 20000; ++i) limits.auth_checked("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), "", t0, true);
        CHECK(limits.failure_records() == 20000);
        // Long after: every event forgets a few expired records (per shard), whatever their number.
        const auto later = t0 + 10min;
        for (int i = 0; i < 20000; ++i) limits.auth_checked("10.2.0." + std::to_string(i % 7), "", later + std::chrono::milliseconds(i), false);
        CHECK(limits.failure_records() < 20000);
        for (int i = 0; i < 40000; ++i) limits.delay("x" + std::to_string(i), later + 1min);
        CHECK(limits.failure_records() == 0);
    }

    TEST_CASE("address limits: a later failure keeps a record alive past its first expiry")
    {
        AddressLimits limits(settings(100, 10, 1, 10s));
        limits.auth_checked("a", "", t0, true);
        for (int i = 0; i < 3; ++i) limits.auth_checked("a", "", t0 + 8min, true);
        // The first failure's queue entry is due at t0 + 9 min; the record must survive it.
        for (int i = 0; i < 200; ++i) limits.delay("a", t0 + 9min + std::chrono::seconds(i % 2));
        CHECK(limits.delay("a", t0 + 9min + 2s) > 0ms);
    }
}
