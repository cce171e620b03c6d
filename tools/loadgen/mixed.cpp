// mixed: N bound sessions and one schedule of events at a total rate (chat messages to a random other
// session, pings to the server, presence broadcasts, extdisco requests). Every event is answered or
// delivered back to a session: the reply's id names it, its latency is from send to that arrival. Every
// interval prints one row and one JSON line: what the server did in that interval and how big it is.
#include <array>
#include <deque>
#include <random>
#include <unordered_map>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include "loadgen/run.hpp"
#include "loadgen/stanzas.hpp"
#include "xmpp/ns.hpp"

namespace tern::loadgen {

namespace {

using namespace asio::experimental::awaitable_operators;
constexpr std::chrono::seconds sweep_every{1};

struct Side {
    explicit Side(asio::io_context& io) : kick(io), release(io) { release.expires_at(Clock::time_point::max()); }

    std::string jid;
    bool alive = false;   // bound and not ended by the server
    std::string pending;  // stanzas the scheduler queued for this session's writer
    bool idle_writer = false;
    asio::steady_timer kick;     // wakes the writer when `pending` fills
    asio::steady_timer release;  // ends the session
};

struct Outstanding {
    Clock::time_point sent;
    MixedEvent kind;
};

// The figures of one report interval.
struct Interval {
    Clock::time_point begun;
    std::uint64_t sent = 0;
    std::uint64_t completed = 0;
    std::array<std::uint64_t, mixed_event_kinds> completed_by_kind{};
    Latencies latencies;
    Failures failures;
    std::optional<ProcessSample> server_begun;
    OwnUsage own_begun;
};

struct MixedRun : Run {
    MixedRun(asio::io_context& io, const Options& o) : Run(io, o), go(io), body(o.body_bytes, 'x')
    {
        go.expires_at(Clock::time_point::max());
        for (std::uint32_t i = 0; i < o.count; ++i) sides.emplace_back(io);
    }

    std::deque<Side> sides;
    std::vector<std::uint32_t> alive;  // indices of the sessions that were bound when sending began
    asio::steady_timer go;
    bool going = false;
    bool stopping = false;
    const std::string body;
    std::mt19937_64 random{20261122};
    std::uniform_real_distribution<double> uniform{0.0, 1.0};
    std::unordered_map<std::uint64_t, Outstanding> outstanding;  // by sequence number
    std::uint64_t sequence = 0;
    std::uint32_t logging_in = 0;
    std::uint32_t bound = 0;
    std::uint32_t failed = 0;
    std::uint32_t ended = 0;
    std::uint64_t unexpected = 0;  // stanzas that answer nothing we sent (ignored)
    std::uint64_t late = 0;        // answers that came after their event had timed out
    Latencies login_latencies;
    Failures login_failures;
    Interval current;
    // Over the whole run.
    std::uint64_t total_sent = 0;
    std::uint64_t total_completed = 0;
    ErrorCounts total_errors;
    Latencies total_latencies;

    std::uint32_t pick_session()
    {
        for (int attempt = 0; attempt < 8; ++attempt) {
            const auto i = alive[static_cast<std::size_t>(uniform(random) * static_cast<double>(alive.size()))];
            if (sides[i].alive) return i;
        }
        return alive[0];
    }

    void issue(Clock::time_point now)
    {
        MixedEvent kind = pick_mixed_event(uniform(random));
        const std::uint32_t from = pick_session();
        std::uint32_t to = from;
        if (kind == MixedEvent::Chat) {
            for (int attempt = 0; attempt < 8 && to == from; ++attempt) to = pick_session();
            if (to == from) kind = MixedEvent::Ping;  // no other session alive
        }
        Side& side = sides[from];
        if (!side.alive) return;
        const std::uint64_t seq = sequence++;
        const std::string id = stamp_id(mixed_event_tag(kind), seq,
                                        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
        switch (kind) {
        case MixedEvent::Chat: side.pending += chat_message(sides[to].jid, id, body); break;
        case MixedEvent::Ping: side.pending += ping_request(options.domain, id); break;
        case MixedEvent::Presence: side.pending += presence_broadcast(id); break;
        case MixedEvent::Extdisco: side.pending += extdisco_request(options.domain, {}, id); break;
        }
        outstanding.emplace(seq, Outstanding{now, kind});
        ++current.sent;
        ++total_sent;
        if (side.idle_writer) side.kick.cancel();
    }

    void error(const Failure& f)
    {
        current.failures.add(f);
        ++total_errors[f.kind];
    }

    // A stanza that reached session i.
    void on_stanza(const xml::Stanza& stanza)
    {
        const auto now = Clock::now();
        const auto stamp = parse_stamp(stanza.id());
        const auto kind = stamp ? mixed_event_of_tag(stamp->tag) : std::nullopt;
        if (!kind) {
            ++unexpected;
            return;
        }
        const auto it = outstanding.find(stamp->sequence);
        if (it == outstanding.end()) {
            ++late;
            return;
        }
        const Outstanding event = it->second;
        outstanding.erase(it);
        if (stanza.type() == "error") {
            const auto condition = stanza.root().child("error", xmpp::ns::client).first_child_element();
            error({std::string(mixed_event_name(event.kind)) + "-error:" + (condition ? std::string(condition.name()) : "none"),
                   "answer: " + stanza.serialize()});
            return;
        }
        current.latencies.add(now - event.sent);
        total_latencies.add(now - event.sent);
        ++current.completed;
        ++current.completed_by_kind[static_cast<std::size_t>(event.kind)];
        ++total_completed;
    }

    // Events without an answer for a step timeout (or all of them, at the end) count as timeouts.
    void sweep(Clock::time_point older_than)
    {
        for (auto it = outstanding.begin(); it != outstanding.end();) {
            if (it->second.sent < older_than) {
                error({"timeout:" + std::string(mixed_event_name(it->second.kind)), "no answer within the step timeout"});
                it = outstanding.erase(it);
            } else {
                ++it;
            }
        }
    }
};

// Writes what the scheduler queued for this session until the run stops.
asio::awaitable<void> mixed_writer(MixedRun& run, Client& client, Side& side)
{
    // Named values rather than co_await inside conditions and on temporaries: GCC 12 miscompiles some of
    // those coroutine shapes (a trap at the first resume).
    std::string stanzas;
    bool ok = true;
    while (ok && !run.stopping && side.alive) {
        if (side.pending.empty()) {
            side.idle_writer = true;
            side.kick.expires_at(Clock::time_point::max());
            co_await side.kick.async_wait(nothrow);
            side.idle_writer = false;
            continue;
        }
        stanzas = std::exchange(side.pending, {});
        ok = co_await client.send_stanzas(stanzas);
    }
    if (!ok && side.alive) {
        side.alive = false;
        run.error(client.failure());
    }
}

asio::awaitable<void> mixed_reader(MixedRun& run, Client& client, Side& side)
{
    const Client::StanzaHandler on_stanza = [&run](const xml::Stanza& s) { run.on_stanza(s); };
    const bool held = co_await client.hold(side.release, on_stanza, "mixed");
    if (!held && side.alive) {
        side.alive = false;
        run.error(client.failure());
    }
    side.kick.cancel();
}

asio::awaitable<void> mixed_session(MixedRun& run, std::uint32_t i)
{
    Client client(run.io.get_executor(), run.client);
    Side& side = run.sides[i];
    const auto begun = Clock::now();
    const bool ok = co_await client.login(run.source(i), run.user(i), run.options.password, run.keys, i);
    --run.logging_in;
    if (ok) {
        ++run.bound;
        run.login_latencies.add(Clock::now() - begun);
        side.jid = client.jid();
        side.alive = true;
    } else {
        ++run.failed;
        run.login_failures.add(client.failure());
    }
    run.wake.cancel();
    if (ok) {
        if (!run.going) co_await run.go.async_wait(nothrow);
        co_await (mixed_writer(run, client, side) && mixed_reader(run, client, side));
        co_await client.close();
    }
    ++run.ended;
    run.wake.cancel();
}

void print_interval_header(const MixedRun& run)
{
    if (run.options.json_only) return;
    std::printf("%9s %9s %9s %8s %8s %8s %8s %7s %10s %7s %6s %6s\n", "elapsed_s", "sent/s", "events/s", "p50_ms",
                "p90_ms", "p99_ms", "max_ms", "errors", "rss_kib", "fds", "srv%", "gen%");
    std::fflush(stdout);
}

// One row and one JSON line for the interval that ends now; then the next interval begins.
void report_interval(MixedRun& run, Clock::time_point send_start)
{
    const auto now = Clock::now();
    Interval& in = run.current;
    const double length = seconds_between(in.begun, now);
    const auto server = run.server();
    // -1: unknown (a plain number: GCC 12 warns falsely about an optional here).
    std::int64_t fds = -1;
    if (run.options.server_pid)
        if (const auto n = count_open_fds(*run.options.server_pid)) fds = static_cast<std::int64_t>(*n);
    const OwnUsage own = own_usage();
    const auto share = own_cpu_share(own.user_seconds + own.system_seconds - in.own_begun.user_seconds -
                                         in.own_begun.system_seconds,
                                     length);
    const double events_per_s = length > 0 ? static_cast<double>(in.completed) / length : 0;
    const double sent_per_s = length > 0 ? static_cast<double>(in.sent) / length : 0;
    const std::uint64_t errors = total(in.failures.counts);

    JsonLine line = run.json("interval");
    line.add("elapsed_s", seconds_between(send_start, now)).add("interval_s", length);
    line.add("sent", in.sent).add("completed", in.completed).add("sent_per_s", sent_per_s).add("events_per_s", events_per_s);
    line.add("rate_target", run.options.message_rate);
    ErrorCounts by_kind;  // not errors: completed events per kind, in the same flat shape
    for (const MixedEvent e : {MixedEvent::Chat, MixedEvent::Ping, MixedEvent::Presence, MixedEvent::Extdisco})
        by_kind[std::string(mixed_event_name(e))] = in.completed_by_kind[static_cast<std::size_t>(e)];
    line.add("completed_by_kind", by_kind);
    line.add_latencies("latency_ms", in.latencies);
    line.add("errors_total", errors).add("errors", in.failures.counts).add("outstanding", std::uint64_t{run.outstanding.size()});
    double server_pct = -1;
    if (server) {
        line.add("server_rss_kib", server->rss_kb);
        if (in.server_begun) {
            const double cpu = server->cpu_seconds - in.server_begun->cpu_seconds;
            server_pct = length > 0 ? cpu / length * 100 : 0;
            line.add("server_cpu_s", cpu).add("server_cpu_pct", server_pct);
        }
    }
    if (fds >= 0) line.add("server_fds", fds);
    line.add("loadgen_cpu_s", share.seconds).add("loadgen_cpu_pct", share.percent);
    line.add("loadgen_saturated", std::uint64_t{share.saturated});

    if (!run.options.json_only) {
        const std::string rss_text = server ? std::to_string(server->rss_kb) : "-";
        const std::string fds_text = fds >= 0 ? std::to_string(fds) : "-";
        const std::string server_text = server_pct >= 0 ? format_number(server_pct, 0) + "%" : "-";
        std::printf("%9.1f %9.0f %9.0f %8.2f %8.2f %8.2f %8.2f %7llu %10s %7s %6s %5.0f%%%s\n",
                    seconds_between(send_start, now), sent_per_s, events_per_s, in.latencies.percentile(50),
                    in.latencies.percentile(90), in.latencies.percentile(99), in.latencies.max(),
                    static_cast<unsigned long long>(errors), rss_text.c_str(), fds_text.c_str(), server_text.c_str(),
                    share.percent,
                    share.saturated ? "  (generator may be the limit)" : "");
        for (const auto& [kind, n] : in.failures.counts)
            std::printf("          %s: %llu (%s)\n", kind.c_str(), static_cast<unsigned long long>(n),
                        in.failures.samples.at(kind).c_str());
    }
    std::printf("%s\n", line.str().c_str());
    std::fflush(stdout);

    run.current = Interval{};
    run.current.begun = now;
    run.current.server_begun = server;
    run.current.own_begun = own;
}

void print_summary(MixedRun& run, double seconds, const OwnUsage& own_before, const OwnUsage& own_after)
{
    Table table("mixed: " + std::to_string(run.alive.size()) + " sessions, target " +
                format_number(run.options.message_rate, 0) + " events/s, " + format_number(seconds, 1) + " s");
    JsonLine line = run.json("mixed");
    const double rate = seconds > 0 ? static_cast<double>(run.total_completed) / seconds : 0;
    line.add("sessions", std::uint64_t{run.alive.size()}).add("seconds", seconds).add("rate_target", run.options.message_rate);
    line.add("sent", run.total_sent).add("completed", run.total_completed).add("events_per_s", rate);
    line.add("unexpected", run.unexpected).add("late", run.late);
    table.row("sent / completed", std::to_string(run.total_sent) + " / " + std::to_string(run.total_completed))
        .row("rate", format_number(rate, 1) + " events/s completed");
    add_latencies(table, line, run.total_latencies);
    add_own_cpu(table, line, own_before, own_after, seconds);
    line.add("errors", run.total_errors);
    for (const auto& [kind, n] : run.total_errors) table.row("  " + kind, std::to_string(n));
    run.print(table, line);
}

asio::awaitable<void> mixed(MixedRun& run)
{
    const Options& o = run.options;
    co_await log_all_in(run, mixed_session);

    for (std::uint32_t i = 0; i < o.count; ++i)
        if (run.sides[i].alive) run.alive.push_back(i);
    const auto send_start = Clock::now();
    const auto send_end = send_start + o.duration;
    run.current.begun = send_start;
    run.current.server_begun = run.server();
    run.current.own_begun = own_usage();
    const OwnUsage own_start = run.current.own_begun;
    run.going = true;
    run.go.cancel();
    print_interval_header(run);

    std::uint64_t issued = 0;
    auto next_report = send_start + o.interval;
    auto next_sweep = send_start + sweep_every;
    const auto event_time = [&](std::uint64_t n) {
        return send_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(n / o.message_rate));
    };
    while (!run.alive.empty()) {
        const auto now = Clock::now();
        if (now >= send_end) break;
        const std::uint64_t due = events_due(seconds_between(send_start, now), o.message_rate);
        for (; issued < due; ++issued) run.issue(now);
        if (now >= next_sweep) {
            run.sweep(now - o.step_timeout);
            next_sweep += sweep_every;
        }
        if (now >= next_report) {
            report_interval(run, send_start);
            next_report += o.interval;
        }
        // Nested std::min: an initializer list inside a coroutine trips GCC 12.
        co_await run.sleep_until(std::min(std::min(event_time(issued + 1), next_report), std::min(next_sweep, send_end)));
    }
    const OwnUsage own_end = own_usage();
    co_await run.wait_until([&] { return run.outstanding.empty(); }, Clock::now() + o.drain);
    // No answer even after the drain: timeouts (sending stopped, so nothing new is in flight).
    run.sweep(Clock::time_point::max());
    if (run.current.sent > 0 || run.current.completed > 0 || total(run.current.failures.counts) > 0)
        report_interval(run, send_start);
    run.stopping = true;
    for (Side& side : run.sides) {
        side.release.expires_at(Clock::time_point::min());
        side.kick.cancel();
    }
    co_await run.wait_until([&] { return run.ended == o.count; });
    print_summary(run, seconds_between(send_start, send_end), own_start, own_end);
    run.finished = true;
}

}  // namespace

int run_mixed(asio::io_context& io, const Options& options, const ClientConfig& client)
{
    MixedRun r(io, options);
    r.client = client;
    asio::co_spawn(io, mixed(r), log_exception);
    io.run_for(options.effective_deadline());
    return finish(r, r.failed > 0 || !r.total_errors.empty());
}

}  // namespace tern::loadgen
