#include "loadgen/scenarios.hpp"

#include <algorithm>
#include <charconv>
#include <deque>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include "loadgen/run.hpp"
#include "xmpp/ns.hpp"

namespace tern::loadgen {

namespace {

using namespace asio::experimental::awaitable_operators;

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
    const bool ok = co_await client.login(run.source(i), run.user(i), run.options.password, run.keys, i);
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
    run.start();
    for (std::uint32_t i = 0; i < o.count; ++i) {
        if (o.connect_rate > 0) co_await run.sleep_until(run.start_time(i));
        co_await run.wait_until([&] { return run.in_flight < o.concurrency; });
        ++run.in_flight;
        asio::co_spawn(run.io, idle_session(run, i), [&run](std::exception_ptr e) { run.report_exception(e, "session"); });
    }
    co_await run.wait_until([&] { return run.bound + run.failed == o.count; });
    const auto all_bound = Clock::now();
    const auto server_bound = run.server();
    print_login_phase(run, run.bound, run.failed, all_bound, run.latencies, run.login_failures, server_before, server_bound);

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
        if (co_await client.login(run.source(i), run.user(account), run.options.password, run.keys, account)) {
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
    run.start();
    run.workers = std::min(o.concurrency, o.count);
    for (std::uint32_t w = 0, n = run.workers; w < n; ++w) {
        asio::co_spawn(run.io, login_worker(run), [&run](std::exception_ptr e) {
            if (!e) return;
            --run.workers;
            run.wake.cancel();
            run.report_exception(e, "worker");
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
    add_own_cpu(table, line, run.own_started, own_usage(), took);
    line.add("errors", run.failures.counts);
    run.failures.into(table);
    run.print(table, line);
    run.finished = true;
}

//---------------------------------------------------------------------------------------------------------
// message

// One session of the message scenario. Session i's peer is session i ^ 1: accounts PREFIX(2k-1) and
// PREFIX(2k) are pair k.
struct Side {
    explicit Side(asio::io_context& io) : wake(io), release(io) { release.expires_at(Clock::time_point::max()); }

    std::string jid;              // the full JID, once bound
    bool bound = false;
    std::uint32_t in_flight = 0;  // sent by this side, not yet received by the peer (or bounced)
    bool window_full = false;     // the sender waits for a receipt (not for its --rate schedule)
    asio::steady_timer wake;      // this side's sender waits on it; receipts cancel it when window_full
    // Ends this side's receiving. One per side, not one for the run: every read races it, and cancelling one
    // of N waits on a shared timer costs O(N).
    asio::steady_timer release;
};

struct MessageRun : Run {
    MessageRun(asio::io_context& io, const Options& o) : Run(io, o), go(io)
    {
        go.expires_at(Clock::time_point::max());
        for (std::uint32_t i = 0; i < o.count; ++i) sides.emplace_back(io);
    }

    std::deque<Side> sides;
    asio::steady_timer go;       // cancelled when every login is done: the senders start
    bool going = false;
    Clock::time_point send_start;
    Clock::time_point send_end;
    std::uint32_t logging_in = 0;
    std::uint32_t bound = 0;
    std::uint32_t failed = 0;
    std::uint32_t ended = 0;     // sessions whose coroutine is done
    std::uint32_t sender_count = 0;
    std::uint32_t senders = 0;   // still sending
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    std::uint64_t bounced = 0;   // came back to their sender as type='error'
    Clock::time_point last_received;
    Latencies login_latencies;
    Latencies latencies;         // send to receipt, from the send time carried in the message's id
    Failures login_failures;
    Failures exchange_failures;

    static void free_window_place(Side& side)
    {
        if (side.in_flight > 0) --side.in_flight;
        if (side.window_full) side.wake.cancel();
    }

    // A stanza that reached session i.
    void on_stanza(std::uint32_t i, const xml::Stanza& stanza)
    {
        const auto now = Clock::now();
        if (stanza.name() != "message") {
            exchange_failures.add({"unexpected:" + std::string(stanza.name()), "received " + stanza.serialize()});
            return;
        }
        if (stanza.type() == "error") {
            const auto condition = stanza.root().child("error", xmpp::ns::client).first_child_element();
            exchange_failures.add({"message-error:" + std::string(condition ? condition.name() : "none"),
                                   "bounced: " + stanza.serialize()});
            ++bounced;
            free_window_place(sides[i]);
        } else {
            // id = "<sequence>-<send time: steady_clock nanoseconds>"
            const std::string_view id = stanza.id();
            const auto dash = id.find('-');
            std::int64_t sent_ns = 0;
            const char* end = id.data() + id.size();
            if (dash == std::string_view::npos ||
                std::from_chars(id.data() + dash + 1, end, sent_ns).ptr != end) {
                exchange_failures.add({"unexpected:message-id", "received " + stanza.serialize()});
                return;
            }
            latencies.add(now - Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(sent_ns))));
            ++received;
            last_received = now;
            free_window_place(sides[i ^ 1]);
        }
        if (senders == 0 && received + bounced >= sent) wake.cancel();
    }
};

// Sends chat messages to the peer until the end of the sending time: whenever the window has room, or
// with --rate on this sender's share of the schedule (staggered over the senders; late messages go out
// at once, up to the window, and their latency counts from when they were actually sent).
asio::awaitable<void> message_sender(MessageRun& run, Client& client, std::uint32_t i)
{
    const Options& o = run.options;
    Side& me = run.sides[i];
    const std::string head = "<message type='chat' to='" + run.sides[i ^ 1].jid + "' id='";
    const std::string tail = "'><body>" + std::string(o.body_bytes, 'x') + "</body></message>";
    const bool paced = o.message_rate > 0;
    const auto interval = paced ? std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(run.sender_count / o.message_rate))
                                : Clock::duration::zero();
    Clock::time_point next = run.send_start + interval * i / o.count;
    std::string batch;
    std::uint64_t sequence = 0;
    for (;;) {
        const auto now = Clock::now();
        if (now >= run.send_end) break;
        const bool due = !paced || next <= now;
        if (!due || me.in_flight >= o.window) {
            me.window_full = due;
            me.wake.expires_at(due ? run.send_end : std::min(next, run.send_end));
            co_await me.wake.async_wait(nothrow);
            me.window_full = false;
            continue;
        }
        batch.clear();
        const std::string stamp =
            std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
        while (me.in_flight < o.window && (!paced || next <= now)) {
            batch += head;
            batch += std::to_string(sequence++);
            batch += '-';
            batch += stamp;
            batch += tail;
            ++me.in_flight;
            ++run.sent;
            next += interval;
        }
        if (!co_await client.send_stanzas(batch)) break;
    }
    --run.senders;
    run.wake.cancel();
}

asio::awaitable<void> message_session(MessageRun& run, std::uint32_t i)
{
    Client client(run.io.get_executor(), run.client);
    const auto begun = Clock::now();
    const bool ok = co_await client.login(run.source(i), run.user(i), run.options.password, run.keys, i);
    --run.logging_in;
    if (ok) {
        ++run.bound;
        run.login_latencies.add(Clock::now() - begun);
        run.sides[i].jid = client.jid();
        run.sides[i].bound = true;
    } else {
        ++run.failed;
        run.login_failures.add(client.failure());
    }
    run.wake.cancel();
    if (ok) {
        if (!run.going) co_await run.go.async_wait(nothrow);
        if (run.sides[i ^ 1].bound) {
            const Client::StanzaHandler on_stanza = [&run, i](const xml::Stanza& s) { run.on_stanza(i, s); };
            const bool held = co_await (message_sender(run, client, i) && client.hold(run.sides[i].release, on_stanza));
            if (!held || !client.failure().kind.empty()) run.exchange_failures.add(client.failure());
        }
        co_await client.close();
    }
    ++run.ended;
    run.wake.cancel();
}

void print_message_phase(MessageRun& run, Clock::time_point sending_done, Clock::time_point drained,
                         const OwnUsage& own_before, const OwnUsage& own_after,
                         const std::optional<ProcessSample>& server_before, const std::optional<ProcessSample>& server_after)
{
    const Options& o = run.options;
    const double sending = seconds_between(run.send_start, sending_done);
    const double receiving = seconds_between(run.send_start, run.received ? run.last_received : sending_done);
    const double throughput = receiving > 0 ? static_cast<double>(run.received) / receiving : 0;
    const std::uint64_t lost = run.sent - std::min(run.sent, run.received);
    const double phase = seconds_between(run.send_start, drained);

    std::string pace = o.message_rate > 0 ? "rate " + format_number(o.message_rate, 0) + "/s (window " + std::to_string(o.window) + ")"
                                          : "window " + std::to_string(o.window);
    Table table("message phase: " + std::to_string(o.pairs) + " pairs, " + pace + ", " + std::to_string(o.body_bytes) +
                " B bodies, " + format_number(std::chrono::duration<double>(o.duration).count(), 1) + " s, " +
                std::string(transport_name(o.transport)));
    JsonLine line = run.json("message");
    line.add("pairs", o.pairs).add("senders", run.sender_count).add("window", o.window).add("rate_target", o.message_rate);
    line.add("body_bytes", o.body_bytes).add("sent", run.sent).add("received", run.received).add("bounced", run.bounced);
    line.add("lost", lost).add("send_seconds", sending).add("sent_per_s", sending > 0 ? run.sent / sending : 0.0);
    line.add("throughput_per_s", throughput);
    table.row("senders", std::to_string(run.sender_count))
        .row("sent / received / lost", std::to_string(run.sent) + " / " + std::to_string(run.received) + " / " +
                                           std::to_string(lost) + (run.bounced ? " (" + std::to_string(run.bounced) + " bounced)" : ""))
        .row("sending took", format_number(sending, 2) + " s (" + format_number(sending > 0 ? run.sent / sending : 0, 0) + " sent/s)")
        .row("throughput", format_number(throughput, 0) + " messages/s (received, first send to last receipt)");
    add_latencies(table, line, run.latencies);
    if (server_before && server_after) {
        const double cpu = server_after->cpu_seconds - server_before->cpu_seconds;
        const double per_cpu = cpu > 0 ? static_cast<double>(run.received) / cpu : 0;
        line.add("server_cpu_s", cpu).add("messages_per_server_cpu_s", per_cpu);
        table.row("server CPU", format_number(cpu, 2) + " s (" + format_number(phase > 0 ? cpu / phase * 100 : 0, 0) +
                                    "% of a core; " + format_number(per_cpu, 0) + " messages per CPU-second)");
    }
    add_own_cpu(table, line, own_before, own_after, phase);
    line.add("errors", run.exchange_failures.counts);
    run.exchange_failures.into(table);
    run.print(table, line);
}

asio::awaitable<void> message(MessageRun& run)
{
    const Options& o = run.options;
    co_await log_all_in(run, message_session);

    for (std::uint32_t i = 0; i < o.count; ++i) run.sender_count += run.sides[i].bound && run.sides[i ^ 1].bound;
    run.senders = run.sender_count;
    const auto server_start = run.server();
    const OwnUsage own_start = own_usage();
    run.send_start = Clock::now();
    run.send_end = run.send_start + o.duration;
    run.going = true;
    run.go.cancel();
    co_await run.wait_until([&] { return run.senders == 0; });
    const auto sending_done = Clock::now();
    co_await run.wait_until([&] { return run.received + run.bounced >= run.sent; }, sending_done + o.drain);
    const auto drained = Clock::now();
    const auto server_end = run.server();
    const OwnUsage own_end = own_usage();
    // Expired, not just cancelled: a receiver that had not started waiting yet stops at once, too.
    for (Side& side : run.sides) side.release.expires_at(Clock::time_point::min());
    co_await run.wait_until([&] { return run.ended == o.count; });
    print_message_phase(run, sending_done, drained, own_start, own_end, server_start, server_end);
    run.finished = true;
}

}  // namespace

int run_idle(asio::io_context& io, const Options& options, const ClientConfig& client)
{
    IdleRun r(io, options);
    r.client = client;
    asio::co_spawn(io, idle(r), log_exception);
    io.run_for(options.effective_deadline());
    return finish(r, r.failed > 0 || r.lost > 0);
}

int run_message(asio::io_context& io, const Options& options, const ClientConfig& client)
{
    MessageRun r(io, options);
    r.client = client;
    asio::co_spawn(io, message(r), log_exception);
    io.run_for(options.effective_deadline());
    return finish(r, r.failed > 0 || total(r.exchange_failures.counts) > 0 || r.sent != r.received);
}

int run_login(asio::io_context& io, const Options& options, const ClientConfig& client)
{
    LoginRun r(io, options);
    r.client = client;
    asio::co_spawn(io, login(r), log_exception);
    io.run_for(options.effective_deadline());
    return finish(r, total(r.failures.counts) > 0);
}

}  // namespace tern::loadgen
