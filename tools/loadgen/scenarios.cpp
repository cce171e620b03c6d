#include "loadgen/scenarios.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "loadgen/client.hpp"
#include "loadgen/proc.hpp"
#include "loadgen/report.hpp"

namespace tern::loadgen {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);

double seconds_between(Clock::time_point from, Clock::time_point to)
{
    return std::chrono::duration<double>(to - from).count();
}

std::string_view scenario_name(Scenario s)
{
    return s == Scenario::Idle ? "idle" : "login";
}

std::string_view transport_name(Transport t)
{
    switch (t) {
    case Transport::StartTls: return "starttls";
    case Transport::DirectTls: return "direct-tls";
    case Transport::Plain: return "plain";
    }
    return "?";
}

// State shared by the coordinator and the sessions of one run (all on one thread).
struct Run {
    Run(asio::io_context& io, const Options& o) : io(io), options(o), wake(io), pace(io)
    {
        salted.resize(o.accounts);
    }

    asio::io_context& io;
    const Options& options;
    ClientConfig client;
    std::vector<sasl::SaltedPassword> salted;  // per account: SCRAM's client-side PBKDF2, done once
    asio::steady_timer wake;                   // the coordinator sleeps on it; sessions cancel it
    asio::steady_timer pace;                   // connect-rate pacing
    Clock::time_point started = Clock::now();
    std::uint64_t exceptions = 0;
    bool finished = false;

    std::optional<std::uint32_t> source(std::uint64_t i) const
    {
        if (!options.sources) return std::nullopt;
        return options.sources->at(i);
    }
    std::string user(std::uint32_t account) const { return options.user_prefix + std::to_string(account + 1); }

    std::optional<ProcessSample> server() const
    {
        if (!options.server_pid) return std::nullopt;
        return sample_process(*options.server_pid);
    }

    JsonLine json(std::string_view phase) const
    {
        JsonLine line;
        line.add("tool", "tern-loadgen").add("scenario", scenario_name(options.scenario)).add("phase", phase);
        return line;
    }

    void print(const Table& table, const JsonLine& line) const
    {
        if (!options.json_only) std::fputs((table.str() + "\n").c_str(), stdout);
        std::fputs((line.str() + "\n").c_str(), stdout);
        std::fflush(stdout);
    }

    // Waits until `done()` holds; sessions call wake.cancel() whenever something changed.
    template <class Done>
    asio::awaitable<void> wait_until(Done done)
    {
        while (!done()) {
            wake.expires_at(Clock::time_point::max());
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

    void add(const Failure& f)
    {
        ++counts[f.kind];
        samples.emplace(f.kind, f.detail);
    }
    void into(Table& table) const
    {
        for (const auto& [kind, n] : counts) table.row("  " + kind, std::to_string(n) + "  (" + samples.at(kind) + ")");
    }
};

void add_server_figures(Table& table, JsonLine& line, const std::optional<ProcessSample>& before,
                        const std::optional<ProcessSample>& after, std::uint64_t count, std::string_view per)
{
    if (!before || !after) return;
    const double cpu = after->cpu_seconds - before->cpu_seconds;
    line.add("server_cpu_s", cpu);
    table.row("server CPU", format_number(cpu, 2) + " s" +
                                (count ? " (" + format_number(cpu * 1000 / static_cast<double>(count), 3) + " ms per " +
                                             std::string(per) + ")"
                                       : std::string()));
}

void add_latencies(Table& table, JsonLine& line, Latencies& latencies)
{
    line.add_latencies("latency_ms", latencies);
    table.row("latency p50 / p90 / p99 / max",
              format_number(latencies.percentile(50), 1) + " / " + format_number(latencies.percentile(90), 1) + " / " +
                  format_number(latencies.percentile(99), 1) + " / " + format_number(latencies.max(), 1) + " ms");
}

//---------------------------------------------------------------------------------------------------------
// idle

struct IdleRun : Run {
    IdleRun(asio::io_context& io, const Options& o) : Run(io, o) { release.expires_at(Clock::time_point::max()); }

    asio::steady_timer release{io};  // cancelled when the hold is over
    std::uint32_t in_flight = 0;
    std::uint32_t holding = 0;  // bound sessions the server has not ended
    std::uint32_t bound = 0;
    std::uint32_t failed = 0;
    std::uint32_t lost = 0;    // bound, then ended by the server before the hold was over
    std::uint32_t ended = 0;   // sessions whose coroutine is done
    Latencies latencies;
    Failures login_failures;
    Failures hold_failures;
};

asio::awaitable<void> idle_session(IdleRun& run, std::uint32_t i)
{
    Client client(run.io.get_executor(), run.client);
    const auto begun = Clock::now();
    const bool ok = co_await client.login(run.source(i), run.user(i), run.options.password, run.salted[i]);
    --run.in_flight;
    if (ok) {
        ++run.bound;
        run.latencies.add(Clock::now() - begun);
    } else {
        ++run.failed;
        run.login_failures.add(client.failure());
    }
    run.wake.cancel();
    if (ok) {
        ++run.holding;
        const bool held = co_await client.hold(run.release);
        --run.holding;
        if (!held) {
            ++run.lost;
            run.hold_failures.add(client.failure());
        }
        co_await client.close();
    }
    ++run.ended;
    run.wake.cancel();
}

asio::awaitable<void> idle(IdleRun& run)
{
    const Options& o = run.options;
    const auto server_before = run.server();
    run.started = Clock::now();
    for (std::uint32_t i = 0; i < o.count; ++i) {
        if (o.connect_rate > 0) co_await run.sleep_until(run.start_time(i));
        co_await run.wait_until([&] { return run.in_flight < o.concurrency; });
        ++run.in_flight;
        asio::co_spawn(run.io, idle_session(run, i), [&run](std::exception_ptr e) {
            if (!e) return;
            ++run.exceptions;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::fprintf(stderr, "tern-loadgen: session failed with an exception: %s\n", ex.what());
            }
        });
    }
    co_await run.wait_until([&] { return run.bound + run.failed == o.count; });
    const auto all_bound = Clock::now();
    const auto server_bound = run.server();
    {
        const double took = seconds_between(run.started, all_bound);
        Table table("login phase: " + std::to_string(o.count) + " sessions, " + std::string(transport_name(o.transport)) +
                    ", " + o.mechanism);
        JsonLine line = run.json("login");
        line.add("sessions", o.count).add("bound", run.bound).add("failed", run.failed).add("seconds", took);
        line.add("rate_per_s", took > 0 ? run.bound / took : 0.0);
        table.row("bound / failed", std::to_string(run.bound) + " / " + std::to_string(run.failed))
            .row("took", format_number(took, 2) + " s (" + format_number(took > 0 ? run.bound / took : 0, 1) + " logins/s)");
        add_latencies(table, line, run.latencies);
        add_server_figures(table, line, server_before, server_bound, run.bound, "login");
        line.add("errors", run.login_failures.counts);
        run.login_failures.into(table);
        run.print(table, line);
    }

    co_await run.sleep_until(all_bound + o.settle);
    const auto server_idle = run.server();
    {
        Table table("idle phase: after " + format_number(seconds_between(all_bound, Clock::now()), 1) + " s quiet");
        JsonLine line = run.json("idle");
        const std::uint32_t alive = run.holding;
        line.add("sessions", alive);
        table.row("sessions", std::to_string(alive));
        if (server_before && server_idle) {
            const auto delta = static_cast<std::int64_t>(server_idle->rss_kb) - static_cast<std::int64_t>(server_before->rss_kb);
            const double per = alive ? static_cast<double>(delta) / alive : 0.0;
            line.add("server_rss_before_kib", server_before->rss_kb)
                .add("server_rss_after_kib", server_idle->rss_kb)
                .add("rss_delta_kib", delta)
                .add("rss_per_session_kib", per);
            table.row("server VmRSS before / after", std::to_string(server_before->rss_kb) + " / " +
                                                         std::to_string(server_idle->rss_kb) + " KiB")
                .row("per idle session", format_number(per, 2) + " KiB");
        } else if (o.server_pid) {
            table.row("server", "process " + std::to_string(*o.server_pid) + " not readable");
        }
        run.print(table, line);
    }

    co_await run.sleep_until(all_bound + std::max(o.hold, o.settle));
    const auto server_held = run.server();
    const auto release_at = Clock::now();
    const std::uint32_t held_at_release = run.holding;
    run.release.cancel();
    co_await run.wait_until([&] { return run.ended == o.count; });
    {
        Table table("hold and close");
        JsonLine line = run.json("close");
        line.add("held_s", seconds_between(all_bound, release_at)).add("lost_during_hold", run.lost);
        line.add("holding_at_release", held_at_release);
        line.add("close_seconds", seconds_between(release_at, Clock::now()));
        table.row("held", format_number(seconds_between(all_bound, release_at), 1) + " s")
            .row("still held at the end", std::to_string(held_at_release))
            .row("lost while held", std::to_string(run.lost))
            .row("closing took", format_number(seconds_between(release_at, Clock::now()), 2) + " s");
        if (server_held) {
            line.add("server_rss_end_of_hold_kib", server_held->rss_kb);
            table.row("server VmRSS at end of hold", std::to_string(server_held->rss_kb) + " KiB");
        }
        line.add("errors", run.hold_failures.counts);
        run.hold_failures.into(table);
        run.print(table, line);
    }
    run.finished = true;
}

//---------------------------------------------------------------------------------------------------------
// login

struct LoginRun : Run {
    using Run::Run;
    std::uint32_t next = 0;
    std::uint32_t workers = 0;
    std::uint32_t succeeded = 0;
    Latencies latencies;  // connect to bound
    Latencies cycles;     // connect to closed
    Failures failures;
};

asio::awaitable<void> login_worker(LoginRun& run)
{
    asio::steady_timer pace(run.io);
    while (run.next < run.options.count) {
        const std::uint32_t i = run.next++;
        if (run.options.connect_rate > 0) {
            pace.expires_at(run.start_time(i));
            co_await pace.async_wait(nothrow);
        }
        const std::uint32_t account = i % run.options.accounts;
        Client client(run.io.get_executor(), run.client);
        const auto begun = Clock::now();
        if (co_await client.login(run.source(i), run.user(account), run.options.password, run.salted[account])) {
            run.latencies.add(Clock::now() - begun);
            co_await client.close();
            run.cycles.add(Clock::now() - begun);
            ++run.succeeded;
        } else {
            run.failures.add(client.failure());
        }
    }
    --run.workers;
    run.wake.cancel();
}

asio::awaitable<void> login(LoginRun& run)
{
    const Options& o = run.options;
    const auto server_before = run.server();
    run.started = Clock::now();
    run.workers = std::min(o.concurrency, o.count);
    for (std::uint32_t w = 0, n = run.workers; w < n; ++w) {
        asio::co_spawn(run.io, login_worker(run), [&run](std::exception_ptr e) {
            if (!e) return;
            ++run.exceptions;
            --run.workers;
            run.wake.cancel();
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::fprintf(stderr, "tern-loadgen: worker failed with an exception: %s\n", ex.what());
            }
        });
    }
    co_await run.wait_until([&] { return run.workers == 0; });
    const double took = seconds_between(run.started, Clock::now());
    const auto server_after = run.server();

    Table table("login: " + std::to_string(o.count) + " x (connect, " + std::string(transport_name(o.transport)) + ", " +
                o.mechanism + ", bind, disconnect) over " + std::to_string(o.accounts) + " accounts, " +
                std::to_string(std::min(o.concurrency, o.count)) + " in flight");
    JsonLine line = run.json("login");
    const std::uint64_t failed = total(run.failures.counts);
    line.add("logins", o.count).add("succeeded", run.succeeded).add("failed", failed).add("seconds", took);
    line.add("rate_per_s", took > 0 ? run.succeeded / took : 0.0).add("concurrency", std::min(o.concurrency, o.count));
    table.row("succeeded / failed", std::to_string(run.succeeded) + " / " + std::to_string(failed))
        .row("took", format_number(took, 2) + " s (" + format_number(took > 0 ? run.succeeded / took : 0, 1) +
                         " full cycles/s)");
    add_latencies(table, line, run.latencies);
    line.add_latencies("cycle_ms", run.cycles);
    table.row("cycle p50 / p99", format_number(run.cycles.percentile(50), 1) + " / " +
                                     format_number(run.cycles.percentile(99), 1) + " ms (connect to closed)");
    add_server_figures(table, line, server_before, server_after, run.succeeded, "login");
    line.add("errors", run.failures.counts);
    run.failures.into(table);
    run.print(table, line);
    run.finished = true;
}

void print_own_usage(const Run& run, bool deadline_hit)
{
    const OwnUsage usage = own_usage();
    Table table("tern-loadgen itself");
    JsonLine line = run.json("loadgen");
    line.add("cpu_user_s", usage.user_seconds)
        .add("cpu_system_s", usage.system_seconds)
        .add("max_rss_kib", usage.max_rss_kb)
        .add("wall_s", seconds_between(run.started, Clock::now()))
        .add("deadline_hit", deadline_hit ? std::uint64_t{1} : std::uint64_t{0})
        .add("exceptions", run.exceptions);
    table.row("CPU user / system", format_number(usage.user_seconds, 2) + " / " + format_number(usage.system_seconds, 2) + " s")
        .row("max RSS", std::to_string(usage.max_rss_kb) + " KiB");
    if (deadline_hit) table.row("DEADLINE", "reached before the run finished: the figures above are partial");
    run.print(table, line);
}

}  // namespace

int run(const Options& options)
{
    const std::uint64_t open_files = raise_open_file_limit();
    if (open_files < options.concurrency + 64 ||
        (options.scenario == Scenario::Idle && open_files < std::uint64_t{options.count} + 64)) {
        std::fprintf(stderr, "tern-loadgen: the open-file limit is %llu, too low for this run\n",
                     static_cast<unsigned long long>(open_files));
        return 3;
    }
    std::shared_ptr<const tls::Context> tls;
    if (options.transport != Transport::Plain) {
        auto context = tls::Context::create_client();
        if (!context) {
            std::fprintf(stderr, "tern-loadgen: %s\n", context.error().c_str());
            return 3;
        }
        tls = *context;
    }

    asio::io_context io(1);
    const auto configure = [&](Run& r) {
        r.client.server = {asio::ip::make_address_v4(options.host), options.port};
        r.client.transport = options.transport;
        r.client.domain = options.domain;
        r.client.mechanism = options.mechanism;
        r.client.hash = options.hash();
        r.client.channel_binding = options.channel_binding();
        r.client.tls = tls;
        r.client.step_timeout = options.step_timeout;
    };
    const auto finish = [&](Run& r, bool failures) {
        const bool deadline_hit = !r.finished;
        print_own_usage(r, deadline_hit);
        if (deadline_hit) {
            // Sessions are still suspended mid-exchange: leave without unwinding them.
            std::fflush(stdout);
            std::_Exit(2);
        }
        return failures || r.exceptions ? 1 : 0;
    };
    const auto log_exception = [](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "tern-loadgen: %s\n", ex.what());
        }
    };

    if (options.scenario == Scenario::Idle) {
        IdleRun r(io, options);
        configure(r);
        asio::co_spawn(io, idle(r), log_exception);
        io.run_for(options.effective_deadline());
        return finish(r, r.failed > 0 || r.lost > 0);
    }
    LoginRun r(io, options);
    configure(r);
    asio::co_spawn(io, login(r), log_exception);
    io.run_for(options.effective_deadline());
    return finish(r, total(r.failures.counts) > 0);
}

}  // namespace tern::loadgen
