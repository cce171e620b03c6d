#include "loadgen/proc.hpp"
#include "loadgen/report.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

using namespace tern::loadgen;
using namespace std::chrono_literals;

TEST_SUITE("tools") {

TEST_CASE("loadgen percentiles use the nearest rank")
{
    Latencies l;
    CHECK(l.percentile(50) == 0);
    CHECK(l.max() == 0);
    for (int ms = 100; ms >= 1; --ms) l.add(std::chrono::milliseconds(ms));
    CHECK(l.size() == 100);
    CHECK(l.percentile(50) == 50);
    CHECK(l.percentile(90) == 90);
    CHECK(l.percentile(99) == 99);
    CHECK(l.percentile(100) == 100);
    CHECK(l.percentile(0) == 1);
    CHECK(l.max() == 100);
    l.add(1000ms);  // added after a sort: sorted again
    CHECK(l.max() == 1000);
    CHECK(l.percentile(50) == 51);
}

TEST_CASE("loadgen JSON lines are escaped and nested")
{
    ErrorCounts errors{{"timeout:sasl", 2}, {"stream-error:conflict", 1}};
    Latencies l;
    l.add(2ms);
    JsonLine line;
    line.add("phase", "idle \"1\"\n").add("count", std::uint64_t{3}).add("delta", std::int64_t{-5}).add("per", 1.5);
    line.add("errors", errors).add_latencies("latency_ms", l).add("none", ErrorCounts{});
    CHECK(line.str() ==
          "{\"phase\":\"idle \\\"1\\\"\\n\",\"count\":3,\"delta\":-5,\"per\":1.500,"
          "\"errors\":{\"stream-error:conflict\":1,\"timeout:sasl\":2},"
          "\"latency_ms\":{\"p50\":2.000,\"p90\":2.000,\"p99\":2.000,\"max\":2.000},\"none\":{}}");
    CHECK(total(errors) == 3);
    CHECK(json_escape(std::string("a\x01\\b", 4)) == "a\\u0001\\\\b");
}

TEST_CASE("loadgen tables align their values")
{
    Table t("title");
    t.row("a", "1").row("longer", "2");
    CHECK(t.str() == "title\n  a       1\n  longer  2\n");
}

TEST_CASE("loadgen reads VmRSS and CPU ticks from /proc text")
{
    CHECK(parse_vm_rss_kb("Name:\tternd\nVmPeak:\t  999 kB\nVmRSS:\t   12345 kB\nRssAnon:\t 1 kB\n") == 12345u);
    CHECK_FALSE(parse_vm_rss_kb("Name:\tkthreadd\nVmPeak:\t1 kB\n"));
    // Field 2 may hold spaces and parentheses; utime (14) = 1500, stime (15) = 250.
    CHECK(parse_cpu_ticks("4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1500 250 0 0 20 0 3 0 77 1 2") == 1750u);
    CHECK_FALSE(parse_cpu_ticks("4242 (x) S 1 2"));
    CHECK_FALSE(parse_cpu_ticks("garbage"));

    const auto self = sample_process(static_cast<int>(::getpid()));
    REQUIRE(self);
    CHECK(self->rss_kb > 0);
    CHECK_FALSE(sample_process(0));
}

TEST_CASE("loadgen flags its own CPU above 90% of a core over phases of at least half a second")
{
    const auto busy = own_cpu_share(0.95, 1.0);
    CHECK(busy.percent == doctest::Approx(95));
    CHECK(busy.saturated);
    CHECK_FALSE(own_cpu_share(0.9, 1.0).saturated);
    CHECK_FALSE(own_cpu_share(0.3, 0.3).saturated);  // too short to tell
    CHECK(own_cpu_share(1.0, 0).percent == 0);
}

TEST_CASE("loadgen counts a process's open descriptors")
{
    const auto n = count_open_fds(static_cast<int>(::getpid()));
    REQUIRE(n);
    CHECK(*n >= 3);
    const int extra = ::dup(0);
    REQUIRE(extra >= 0);
    CHECK(count_open_fds(static_cast<int>(::getpid())) == *n + 1);
    ::close(extra);
    CHECK_FALSE(count_open_fds(0));
}

TEST_CASE("loadgen raises its open-file limit to the hard limit")
{
    CHECK(raise_open_file_limit() >= 1024);
}

}  // TEST_SUITE
