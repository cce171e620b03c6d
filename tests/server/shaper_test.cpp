// The inbound token bucket: a burst at once, then the rate on average.
#include <doctest/doctest.h>

#include "server/shaper.hpp"

using namespace tern;
using server::Shaper;
using namespace std::chrono_literals;

TEST_SUITE("server")
{
    TEST_CASE("an unlimited shaper never asks to wait")
    {
        Shaper shaper;
        const auto now = Shaper::Clock::now();
        CHECK_FALSE(shaper.limited());
        CHECK(shaper.consume(1u << 30, now) == now);
        Shaper zero(0, 4096, now);
        CHECK_FALSE(zero.limited());
        CHECK(zero.consume(1u << 30, now) == now);
    }

    TEST_CASE("the burst is read at once; beyond it, reading waits until the debt is paid at the rate")
    {
        const auto t0 = Shaper::Clock::now();
        Shaper shaper(1000, 4000, t0);  // 1000 bytes/s, 4000 at once
        CHECK(shaper.limited());
        CHECK(shaper.consume(3000, t0) == t0);
        CHECK(shaper.consume(1000, t0) == t0);  // exactly the burst
        const auto resume = shaper.consume(500, t0);  // 500 bytes of debt: half a second
        CHECK(resume - t0 >= 500ms);
        CHECK(resume - t0 < 501ms);
        // After the pause the bucket is empty again, not in debt: the next 500 bytes wait another half second.
        const auto again = shaper.consume(500, resume);
        CHECK(again - resume >= 500ms);
        CHECK(again - resume < 501ms);
    }

    TEST_CASE("tokens refill at the rate up to the burst, never beyond")
    {
        const auto t0 = Shaper::Clock::now();
        Shaper shaper(1000, 2000, t0);
        CHECK(shaper.consume(2000, t0) == t0);
        const auto t1 = t0 + 1s;  // 1000 tokens back
        CHECK(shaper.consume(1000, t1) == t1);
        CHECK(shaper.consume(1, t1) > t1);
        // An hour idle refills the bucket to its burst only.
        const auto later = t1 + 1h;
        CHECK(shaper.consume(2000, later) >= later);
        CHECK(shaper.consume(1000, later) - later >= 1s);
    }

    TEST_CASE("a sustained flood is read at the rate on average")
    {
        auto now = Shaper::Clock::now();
        const auto start = now;
        Shaper shaper(64 * 1024, 64 * 1024, now);
        std::size_t read = 0;
        // A reader that reads 16 KiB whenever allowed, for 10 seconds of the shaper's time.
        while (now - start < 10s) {
            now = std::max(now, shaper.consume(16 * 1024, now));
            read += 16 * 1024;
        }
        const double seconds = std::chrono::duration<double>(now - start).count();
        CHECK(static_cast<double>(read) / seconds == doctest::Approx(64 * 1024 + 6.6 * 1024).epsilon(0.1));
    }
}
