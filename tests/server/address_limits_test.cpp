#include <doctest/doctest.h>

#include "server/address_limits.hpp"

using namespace tern::server;
using namespace std::chrono_literals;

TEST_SUITE("server")
{
    TEST_CASE("address limits cap concurrent connections per address")
    {
        AddressLimits limits(2, 5);
        CHECK(limits.try_connect("10.0.0.1"));
        CHECK(limits.try_connect("10.0.0.1"));
        CHECK_FALSE(limits.try_connect("10.0.0.1"));
        CHECK(limits.try_connect("10.0.0.2"));
        limits.disconnected("10.0.0.1");
        CHECK(limits.connections("10.0.0.1") == 1);
        CHECK(limits.try_connect("10.0.0.1"));
    }

    TEST_CASE("address limits allow max failures per minute and refill over time")
    {
        AddressLimits limits(10, 3);
        const auto t0 = AddressLimits::Clock::time_point{} + 1h;
        for (int i = 0; i < 3; ++i) {
            CHECK(limits.auth_allowed("a", t0));
            limits.auth_failed("a", t0);
        }
        CHECK_FALSE(limits.auth_allowed("a", t0));
        CHECK(limits.auth_allowed("b", t0));
        CHECK_FALSE(limits.auth_allowed("a", t0 + 19s));  // a third of a minute refills one token at 20 s
        CHECK(limits.auth_allowed("a", t0 + 21s));
    }

    TEST_CASE("address limits reserve a failure per attempt in progress")
    {
        AddressLimits limits(10, 2);
        const auto t0 = AddressLimits::Clock::time_point{} + 1h;
        // Two attempts started side by side use up the budget before either has failed.
        CHECK(limits.begin_auth("a", t0));
        CHECK(limits.begin_auth("a", t0));
        CHECK_FALSE(limits.begin_auth("a", t0));
        CHECK_FALSE(limits.auth_allowed("a", t0));
        CHECK(limits.begin_auth("b", t0));
        // One succeeds: its reservation comes back. The other fails: spent.
        limits.end_auth("a", t0, false);
        limits.end_auth("a", t0, true);
        CHECK(limits.begin_auth("a", t0));
        CHECK_FALSE(limits.begin_auth("a", t0));
        limits.end_auth("a", t0, true);
        CHECK_FALSE(limits.auth_allowed("a", t0 + 29s));  // two per minute: one token every 30 s
        CHECK(limits.begin_auth("a", t0 + 31s));
    }

    TEST_CASE("address limits apply new limits at once")
    {
        AddressLimits limits(1, 1);
        CHECK(limits.try_connect("x"));
        CHECK_FALSE(limits.try_connect("x"));
        limits.set_limits(2, 1);
        CHECK(limits.try_connect("x"));
    }
}
