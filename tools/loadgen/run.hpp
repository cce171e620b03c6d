#pragma once

// What every scenario shares: the run's state on its one io_context thread, failure counting, and the
// figures each phase prints (latency, server CPU, the generator's own CPU).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "loadgen/client.hpp"
#include "loadgen/options.hpp"
#include "loadgen/proc.hpp"
#include "loadgen/report.hpp"

namespace tern::loadgen {

using Clock = std::chrono::steady_clock;
inline constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);

double seconds_between(Clock::time_point from, Clock::time_point to);
std::string_view transport_name(Transport t);
ClientConfig client_config(const Options& options, std::shared_ptr<const tls::Context> tls);

// State shared by the coordinator and the sessions of one run (all on one thread).
struct Run {
    Run(asio::io_context& io, const Options& o)
        : io(io), options(o), keys(o.accounts, o.hash(), o.scram_cache), wake(io), pace(io)
    {
    }

    asio::io_context& io;
    const Options& options;
    ClientConfig client;
    ScramKeyCache keys;                        // per account: SCRAM's client-side PBKDF2, done once
    asio::steady_timer wake;                   // the coordinator sleeps on it; sessions cancel it
    asio::steady_timer pace;                   // connect-rate pacing
    Clock::time_point started = Clock::now();
    OwnUsage own_started = own_usage();
    std::uint64_t exceptions = 0;
    bool finished = false;

    std::optional<std::uint32_t> source(std::uint64_t i) const
    {
        if (!options.sources) return std::nullopt;
        return options.sources->at(i);
    }
    std::string user(std::uint32_t account) const { return options.account(account); }

    // The run's clock starts now (own CPU included).
    void start()
    {
        started = Clock::now();
        own_started = own_usage();
    }

    // The completion of a spawned session or worker: an exception is counted and named, never swallowed.
    void report_exception(std::exception_ptr e, const char* who);

    std::optional<ProcessSample> server() const
    {
        if (!options.server_pid) return std::nullopt;
        return sample_process(*options.server_pid);
    }

    JsonLine json(std::string_view phase) const;
    void print(const Table& table, const JsonLine& line) const;

    // Waits until `done()` holds; sessions call wake.cancel() whenever something changed.
    template <class Done>
    asio::awaitable<void> wait_until(Done done)
    {
        while (!done()) {
            wake.expires_at(Clock::time_point::max());
            co_await wake.async_wait(nothrow);
        }
    }

    // The same, but no later than `limit`.
    template <class Done>
    asio::awaitable<void> wait_until(Done done, Clock::time_point limit)
    {
        while (!done() && Clock::now() < limit) {
            wake.expires_at(limit);
            co_await wake.async_wait(nothrow);
        }
    }

    asio::awaitable<void> sleep_until(Clock::time_point when)
    {
        pace.expires_at(when);
        co_await pace.async_wait(nothrow);
    }

    // The connection's start time under --connect-rate.
    Clock::time_point start_time(std::uint64_t i) const
    {
        if (options.connect_rate <= 0) return started;
        return started + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(i) / options.connect_rate));
    }
};

struct Failures {
    ErrorCounts counts;
    std::map<std::string, std::string> samples;  // one detail line per kind

    void add(const Failure& f, std::uint64_t n = 1);
    void into(Table& table) const;
};

void add_latencies(Table& table, JsonLine& line, Latencies& latencies);
void add_server_figures(Table& table, JsonLine& line, const std::optional<ProcessSample>& before,
                        const std::optional<ProcessSample>& after, std::uint64_t count, std::string_view per);
// "loadgen_cpu_s", "loadgen_cpu_pct", "loadgen_saturated", and a warning row when saturated.
void add_own_cpu(Table& table, JsonLine& line, const OwnUsage& before, const OwnUsage& after, double phase_seconds);

// The first phase of idle, message, extdisco and mixed: COUNT sessions logged in and bound (and held).
void print_login_phase(const Run& run, std::uint32_t bound, std::uint32_t failed, Clock::time_point all_bound,
                       Latencies& latencies, const Failures& failures, const std::optional<ProcessSample>& server_before,
                       const std::optional<ProcessSample>& server_bound);

// The login phase of message, extdisco and mixed: starts session(i) for every i < COUNT (at --connect-rate,
// --concurrency in flight), waits until each is bound or failed, and prints the phase.
template <typename SessionRun, typename StartSession>
asio::awaitable<void> log_all_in(SessionRun& run, StartSession session)
{
    const Options& o = run.options;
    const auto server_before = run.server();
    run.start();
    for (std::uint32_t i = 0; i < o.count; ++i) {
        if (o.connect_rate > 0) co_await run.sleep_until(run.start_time(i));
        co_await run.wait_until([&] { return run.logging_in < o.concurrency; });
        ++run.logging_in;
        asio::co_spawn(run.io, session(run, i), [&run](std::exception_ptr e) { run.report_exception(e, "session"); });
    }
    co_await run.wait_until([&] { return run.bound + run.failed == o.count; });
    print_login_phase(run, run.bound, run.failed, Clock::now(), run.login_latencies, run.login_failures, server_before,
                      run.server());
}

// The last JSON line of every run; exits at once (status 2) when the deadline cut the run short.
int finish(const Run& run, bool failures);
void log_exception(std::exception_ptr e);

// The scenarios.
int run_idle(asio::io_context& io, const Options& options, const ClientConfig& client);
int run_login(asio::io_context& io, const Options& options, const ClientConfig& client);
int run_message(asio::io_context& io, const Options& options, const ClientConfig& client);
int run_extdisco(asio::io_context& io, const Options& options, const ClientConfig& client);
int run_handshake(asio::io_context& io, const Options& options, const ClientConfig& client);
int run_mixed(asio::io_context& io, const Options& options, const ClientConfig& client);

}  // namespace tern::loadgen
