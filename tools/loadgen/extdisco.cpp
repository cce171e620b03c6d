// extdisco: C bound sessions, each keeping W XEP-0215 <services/> requests in flight for the duration.
// Every answer (type='result' from any server, or type='error') frees a place in the window at once.
#include <deque>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include "loadgen/run.hpp"
#include "loadgen/stanzas.hpp"
#include "xmpp/ns.hpp"

namespace tern::loadgen {

namespace {

using namespace asio::experimental::awaitable_operators;

struct Connection {
    explicit Connection(asio::io_context& io) : wake(io), release(io) { release.expires_at(Clock::time_point::max()); }

    bool bound = false;
    std::uint32_t in_flight = 0;
    bool window_full = false;  // the sender waits for an answer
    asio::steady_timer wake;
    asio::steady_timer release;
};

struct ExtdiscoRun : Run {
    ExtdiscoRun(asio::io_context& io, const Options& o) : Run(io, o), go(io)
    {
        go.expires_at(Clock::time_point::max());
        for (std::uint32_t i = 0; i < o.count; ++i) connections.emplace_back(io);
    }

    std::deque<Connection> connections;
    asio::steady_timer go;  // cancelled when every login is done
    bool going = false;
    Clock::time_point send_start;
    Clock::time_point send_end;
    std::uint32_t logging_in = 0;
    std::uint32_t bound = 0;
    std::uint32_t failed = 0;
    std::uint32_t ended = 0;
    std::uint32_t senders = 0;
    std::uint64_t sent = 0;
    std::uint64_t results = 0;
    std::uint64_t results_in_time = 0;  // answered before the end of the sending time
    std::uint64_t iq_errors = 0;
    Latencies login_latencies;
    Latencies latencies;
    Failures login_failures;
    Failures failures;

    void on_stanza(Connection& c, const xml::Stanza& stanza)
    {
        const auto now = Clock::now();
        const auto stamp = stanza.name() == "iq" ? parse_stamp(stanza.id()) : std::nullopt;
        if (!stamp || stamp->tag != 'e') {
            failures.add({"unexpected:" + std::string(stanza.name()), "received " + stanza.serialize()});
            return;
        }
        if (stanza.type() == "result") {
            ++results;
            if (now <= send_end) ++results_in_time;
            latencies.add(now - Clock::time_point(std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::nanoseconds(stamp->sent_ns))));
        } else {
            const auto condition = stanza.root().child("error", xmpp::ns::client).first_child_element();
            failures.add({"iq-error:" + std::string(condition ? condition.name() : "none"), "answer: " + stanza.serialize()});
            ++iq_errors;
        }
        if (c.in_flight > 0) --c.in_flight;
        if (c.window_full) c.wake.cancel();
        if (senders == 0 && results + iq_errors >= sent) wake.cancel();
    }
};

// Keeps the window full until the end of the sending time. A window that stays full for a step timeout
// ends this connection's sending: its requests count as timed out.
asio::awaitable<void> extdisco_sender(ExtdiscoRun& run, Client& client, Connection& me)
{
    const Options& o = run.options;
    std::uint64_t sequence = 0;
    std::string batch;
    while (Clock::now() < run.send_end) {
        if (me.in_flight >= o.window) {
            const auto waited_from = Clock::now();
            me.window_full = true;
            me.wake.expires_at(std::min(run.send_end, waited_from + o.step_timeout));
            co_await me.wake.async_wait(nothrow);
            me.window_full = false;
            if (me.in_flight >= o.window && Clock::now() - waited_from >= o.step_timeout) {
                run.failures.add({"timeout:iq", "no answer within the step timeout"}, me.in_flight);
                break;
            }
            continue;
        }
        batch.clear();
        const auto now_ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
        while (me.in_flight < o.window) {
            const std::string id = stamp_id('e', sequence++, now_ns);
            batch += o.credentials_host.empty()
                         ? extdisco_request(o.domain, o.service_type, id)
                         : extdisco_credentials_request(o.domain, o.credentials_host, o.service_type, id);
            ++me.in_flight;
            ++run.sent;
        }
        if (!co_await client.send_stanzas(batch)) break;
    }
    --run.senders;
    run.wake.cancel();
}

asio::awaitable<void> extdisco_session(ExtdiscoRun& run, std::uint32_t i)
{
    Client client(run.io.get_executor(), run.client);
    Connection& me = run.connections[i];
    const auto begun = Clock::now();
    const bool ok = co_await client.login(run.source(i), run.user(i), run.options.password, run.keys, i);
    --run.logging_in;
    if (ok) {
        ++run.bound;
        run.login_latencies.add(Clock::now() - begun);
        me.bound = true;
    } else {
        ++run.failed;
        run.login_failures.add(client.failure());
    }
    run.wake.cancel();
    if (ok) {
        if (!run.going) co_await run.go.async_wait(nothrow);
        const Client::StanzaHandler on_stanza = [&run, &me](const xml::Stanza& s) { run.on_stanza(me, s); };
        const bool held =
            co_await (extdisco_sender(run, client, me) && client.hold(me.release, on_stanza, "extdisco"));
        if (!held || !client.failure().kind.empty()) run.failures.add(client.failure());
        co_await client.close();
    }
    ++run.ended;
    run.wake.cancel();
}

void print_extdisco_phase(ExtdiscoRun& run, Clock::time_point drained, const OwnUsage& own_before,
                          const OwnUsage& own_after, const std::optional<ProcessSample>& server_before,
                          const std::optional<ProcessSample>& server_after)
{
    const Options& o = run.options;
    const double sending = seconds_between(run.send_start, run.send_end);
    const double phase = seconds_between(run.send_start, drained);
    const double rate = sending > 0 ? static_cast<double>(run.results_in_time) / sending : 0;
    const std::uint64_t unanswered = run.sent - std::min(run.sent, run.results + run.iq_errors);
    std::uint32_t senders = 0;
    for (const Connection& c : run.connections) senders += c.bound;

    const std::string request = !o.credentials_host.empty()
                                    ? "<credentials/> of " + o.service_type + " on " + o.credentials_host
                                : o.service_type.empty() ? "<services/>"
                                                         : "<services type='" + o.service_type + "'/>";
    Table table("extdisco phase: " + std::to_string(senders) + " connections x window " + std::to_string(o.window) +
                ", " + request + ", " +
                format_number(sending, 1) + " s, " + std::string(transport_name(o.transport)));
    JsonLine line = run.json("extdisco");
    line.add("connections", senders).add("window", o.window).add("service_type", o.service_type);
    line.add("request", o.credentials_host.empty() ? "services" : "credentials");
    line.add("sent", run.sent).add("results", run.results).add("iq_errors", run.iq_errors).add("unanswered", unanswered);
    line.add("seconds", sending).add("iqs_per_s", rate);
    table.row("sent / answered / errors / unanswered", std::to_string(run.sent) + " / " + std::to_string(run.results) +
                                                           " / " + std::to_string(run.iq_errors) + " / " +
                                                           std::to_string(unanswered))
        .row("rate", format_number(rate, 0) + " IQs/s (results within the sending time)");
    add_latencies(table, line, run.latencies);
    if (server_before && server_after) {
        const double cpu = server_after->cpu_seconds - server_before->cpu_seconds;
        const double per_cpu = cpu > 0 ? static_cast<double>(run.results) / cpu : 0;
        line.add("server_cpu_s", cpu).add("iqs_per_server_cpu_s", per_cpu);
        if (run.results) line.add("server_cpu_us_per_iq", cpu * 1e6 / static_cast<double>(run.results));
        table.row("server CPU", format_number(cpu, 2) + " s (" + format_number(phase > 0 ? cpu / phase * 100 : 0, 0) +
                                    "% of a core; " + format_number(per_cpu, 0) + " IQs per CPU-second)");
    }
    add_own_cpu(table, line, own_before, own_after, phase);
    line.add("errors", run.failures.counts);
    run.failures.into(table);
    run.print(table, line);
}

asio::awaitable<void> extdisco(ExtdiscoRun& run)
{
    const Options& o = run.options;
    co_await log_all_in(run, extdisco_session);

    run.senders = run.bound;
    const auto server_start = run.server();
    const OwnUsage own_start = own_usage();
    run.send_start = Clock::now();
    run.send_end = run.send_start + o.duration;
    run.going = true;
    run.go.cancel();
    co_await run.wait_until([&] { return run.senders == 0; });
    co_await run.wait_until([&] { return run.results + run.iq_errors >= run.sent; }, Clock::now() + o.drain);
    const auto drained = Clock::now();
    const auto server_end = run.server();
    const OwnUsage own_end = own_usage();
    for (Connection& c : run.connections) c.release.expires_at(Clock::time_point::min());
    co_await run.wait_until([&] { return run.ended == o.count; });
    print_extdisco_phase(run, drained, own_start, own_end, server_start, server_end);
    run.finished = true;
}

}  // namespace

int run_extdisco(asio::io_context& io, const Options& options, const ClientConfig& client)
{
    ExtdiscoRun r(io, options);
    r.client = client;
    asio::co_spawn(io, extdisco(r), log_exception);
    io.run_for(options.effective_deadline());
    const bool unanswered = r.sent != r.results + r.iq_errors;
    return finish(r, r.failed > 0 || total(r.failures.counts) > 0 || unanswered);
}

}  // namespace tern::loadgen
