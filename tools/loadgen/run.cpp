#include "loadgen/run.hpp"

#include <cstdlib>

#include "loadgen/scenarios.hpp"

namespace tern::loadgen {

double seconds_between(Clock::time_point from, Clock::time_point to)
{
    return std::chrono::duration<double>(to - from).count();
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

ClientConfig client_config(const Options& options, std::shared_ptr<const tls::Context> tls)
{
    ClientConfig c;
    c.server = {asio::ip::make_address_v4(options.host), options.port};
    c.transport = options.transport;
    c.domain = options.domain;
    c.mechanism = options.mechanism;
    c.hash = options.hash();
    c.channel_binding = options.channel_binding();
    c.tls = std::move(tls);
    c.step_timeout = options.step_timeout;
    return c;
}

void Run::report_exception(std::exception_ptr e, const char* who)
{
    if (!e) return;
    ++exceptions;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "tern-loadgen: %s failed with an exception: %s\n", who, ex.what());
    }
}

JsonLine Run::json(std::string_view phase) const
{
    JsonLine line;
    line.add("tool", "tern-loadgen").add("scenario", scenario_name(options.scenario)).add("phase", phase);
    // How many logins so far derived their SCRAM keys (PBKDF2) and how many reused them (RFC 5802 §5.1).
    line.add("scram_cache", options.scram_cache ? "on" : "off")
        .add("scram_derived", keys.derivations())
        .add("scram_reused", keys.hits());
    return line;
}

void Run::print(const Table& table, const JsonLine& line) const
{
    if (!options.json_only) std::fputs((table.str() + "\n").c_str(), stdout);
    std::fputs((line.str() + "\n").c_str(), stdout);
    std::fflush(stdout);
}

void Failures::add(const Failure& f, std::uint64_t n)
{
    counts[f.kind] += n;
    samples.emplace(f.kind, f.detail);
}

void Failures::into(Table& table) const
{
    for (const auto& [kind, n] : counts) table.row("  " + kind, std::to_string(n) + "  (" + samples.at(kind) + ")");
}

void add_server_figures(Table& table, JsonLine& line, const std::optional<ProcessSample>& before,
                        const std::optional<ProcessSample>& after, std::uint64_t count, std::string_view per)
{
    if (!before || !after) return;
    const double cpu = after->cpu_seconds - before->cpu_seconds;
    line.add("server_cpu_s", cpu);
    if (count) line.add("server_cpu_ms_per_" + std::string(per), cpu * 1000 / static_cast<double>(count));
    table.row("server CPU", format_number(cpu, 2) + " s" +
                                (count ? " (" + format_number(cpu * 1000 / static_cast<double>(count), 3) + " ms per " +
                                             std::string(per) + ")"
                                       : std::string()));
}

void add_latencies(Table& table, JsonLine& line, Latencies& latencies)
{
    line.add_latencies("latency_ms", latencies);
    table.row("latency p50 / p90 / p99 / max",
              format_number(latencies.percentile(50), 2) + " / " + format_number(latencies.percentile(90), 2) + " / " +
                  format_number(latencies.percentile(99), 2) + " / " + format_number(latencies.max(), 2) + " ms");
}

void add_own_cpu(Table& table, JsonLine& line, const OwnUsage& before, const OwnUsage& after, double phase_seconds)
{
    const auto share = own_cpu_share(
        after.user_seconds + after.system_seconds - before.user_seconds - before.system_seconds, phase_seconds);
    line.add("loadgen_cpu_s", share.seconds)
        .add("loadgen_cpu_pct", share.percent)
        .add("loadgen_saturated", std::uint64_t{share.saturated});
    table.row("tern-loadgen CPU",
              format_number(share.seconds, 2) + " s (" + format_number(share.percent, 0) + "% of a core)");
    if (share.saturated)
        table.row("WARNING", "tern-loadgen used more than 90% of a core: it may be the bottleneck, not the server");
}

void print_login_phase(const Run& run, std::uint32_t bound, std::uint32_t failed, Clock::time_point all_bound,
                       Latencies& latencies, const Failures& failures, const std::optional<ProcessSample>& server_before,
                       const std::optional<ProcessSample>& server_bound)
{
    const Options& o = run.options;
    const double took = seconds_between(run.started, all_bound);
    Table table("login phase: " + std::to_string(o.count) + " sessions, " + std::string(transport_name(o.transport)) +
                ", " + o.mechanism);
    JsonLine line = run.json("login");
    line.add("sessions", o.count).add("bound", bound).add("failed", failed).add("seconds", took);
    line.add("rate_per_s", took > 0 ? bound / took : 0.0);
    table.row("bound / failed", std::to_string(bound) + " / " + std::to_string(failed))
        .row("took", format_number(took, 2) + " s (" + format_number(took > 0 ? bound / took : 0, 1) + " logins/s)");
    add_latencies(table, line, latencies);
    add_server_figures(table, line, server_before, server_bound, bound, "login");
    add_own_cpu(table, line, run.own_started, own_usage(), took);
    line.add("errors", failures.counts);
    failures.into(table);
    run.print(table, line);
}

namespace {

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

int finish(const Run& run, bool failures)
{
    const bool deadline_hit = !run.finished;
    print_own_usage(run, deadline_hit);
    if (deadline_hit) {
        // Sessions are still suspended mid-exchange: leave without unwinding them.
        std::fflush(stdout);
        std::_Exit(2);
    }
    return failures || run.exceptions ? 1 : 0;
}

void log_exception(std::exception_ptr e)
{
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "tern-loadgen: %s\n", ex.what());
    }
}

int run(const Options& options)
{
    const std::uint64_t open_files = raise_open_file_limit();
    const bool holds_all = options.scenario != Scenario::Login && options.scenario != Scenario::Handshake;
    if (open_files < options.concurrency + 64 || (holds_all && open_files < std::uint64_t{options.count} + 64)) {
        std::fprintf(stderr, "tern-loadgen: the open-file limit is %llu, too low for this run (see --help: run "
                             "several processes)\n",
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
    const ClientConfig client = client_config(options, tls);
    switch (options.scenario) {
    case Scenario::Idle: return run_idle(io, options, client);
    case Scenario::Login: return run_login(io, options, client);
    case Scenario::Message: return run_message(io, options, client);
    case Scenario::Extdisco: return run_extdisco(io, options, client);
    case Scenario::Handshake: return run_handshake(io, options, client);
    case Scenario::Mixed: return run_mixed(io, options, client);
    }
    return 3;
}

}  // namespace tern::loadgen
