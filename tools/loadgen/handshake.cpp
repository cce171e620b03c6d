// handshake: connect, full TLS handshake on a direct-TLS port, close; COUNT times with C in flight. No XMPP
// at all: the rate the TLS library alone allows, the ceiling for logins.
#include <asio/co_spawn.hpp>

#include "loadgen/run.hpp"

namespace tern::loadgen {

namespace {

struct HandshakeRun : Run {
    using Run::Run;
    std::uint32_t next = 0;
    std::uint32_t workers = 0;
    std::uint32_t succeeded = 0;
    Latencies latencies;  // connect to handshake done
    Failures failures;
};

asio::awaitable<void> handshake_worker(HandshakeRun& run)
{
    asio::steady_timer pace(run.io);
    while (run.next < run.options.count) {
        const std::uint32_t i = run.next++;
        if (run.options.connect_rate > 0) {
            pace.expires_at(run.start_time(i));
            co_await pace.async_wait(nothrow);
        }
        Client client(run.io.get_executor(), run.client);
        const auto begun = Clock::now();
        if (co_await client.tls_handshake(run.source(i))) {
            run.latencies.add(Clock::now() - begun);
            ++run.succeeded;
        } else {
            run.failures.add(client.failure());
        }
        client.drop();
    }
    --run.workers;
    run.wake.cancel();
}

asio::awaitable<void> handshakes(HandshakeRun& run)
{
    const Options& o = run.options;
    const auto server_before = run.server();
    run.start();
    run.workers = std::min(o.concurrency, o.count);
    for (std::uint32_t w = 0, n = run.workers; w < n; ++w) {
        asio::co_spawn(run.io, handshake_worker(run), [&run](std::exception_ptr e) {
            if (!e) return;
            --run.workers;
            run.wake.cancel();
            run.report_exception(e, "worker");
        });
    }
    co_await run.wait_until([&] { return run.workers == 0; });
    const double took = seconds_between(run.started, Clock::now());
    const auto server_after = run.server();

    Table table("handshake: " + std::to_string(o.count) + " x (connect, direct TLS handshake, close), " +
                std::to_string(std::min(o.concurrency, o.count)) + " in flight");
    JsonLine line = run.json("handshake");
    const std::uint64_t failed = total(run.failures.counts);
    const double rate = took > 0 ? run.succeeded / took : 0.0;
    line.add("handshakes", o.count).add("succeeded", run.succeeded).add("failed", failed).add("seconds", took);
    line.add("rate_per_s", rate).add("concurrency", std::min(o.concurrency, o.count));
    table.row("succeeded / failed", std::to_string(run.succeeded) + " / " + std::to_string(failed))
        .row("took", format_number(took, 2) + " s (" + format_number(rate, 1) + " handshakes/s)");
    add_latencies(table, line, run.latencies);
    add_server_figures(table, line, server_before, server_after, run.succeeded, "handshake");
    add_own_cpu(table, line, run.own_started, own_usage(), took);
    line.add("errors", run.failures.counts);
    run.failures.into(table);
    run.print(table, line);
    run.finished = true;
}

}  // namespace

int run_handshake(asio::io_context& io, const Options& options, const ClientConfig& client)
{
    HandshakeRun r(io, options);
    r.client = client;
    asio::co_spawn(io, handshakes(r), log_exception);
    io.run_for(options.effective_deadline());
    return finish(r, total(r.failures.counts) > 0);
}

}  // namespace tern::loadgen
