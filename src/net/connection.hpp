#pragma once

// One client connection on the connection's worker. Nothing else touches the socket: other sessions hand
// stanzas over through the session's SessionHandle, which posts to this worker.
//
// One coroutine per connection, for its whole life (run(), a LoopTask): it waits for readability with async_wait, reads
// non-blocking into the worker's thread_local buffer (an idle connection holds no read buffer), feeds the
// session and carries out the session's actions (STARTTLS, a blocking SASL step, a stanza whose handling
// suspends, a resumption) before it reads again, so a session's stanzas are handled strictly in order. The
// loop is flat: while idle only its own frame is alive. Beside it there is one long-lived deadline timer (a
// callback; never a timer raced against each read), and writes are an async_write chain that ends when the
// wire is drained. Deliveries from other sessions are posted to this worker and only append to the output.
//
// XEP-0198 resumption. A bound session is known to the rest of the server by its SessionHandle, not by the
// connection. When the TCP connection of a resumable session drops, the Connection stays alive without its
// socket as the holder of the Detached session (deliveries keep queueing) until the resumption timeout.
// A new connection that asks to resume it (possibly on another worker) runs hand_over() on the old one's
// worker: the handle is switched to the new connection under its mutex, then, after every delivery posted
// to the old connection before the switch has run, the session's state (counters, unacknowledged stanzas,
// held presence, module state) moves over. Deliveries reaching the new connection before the state wait in
// its Session (Resuming), so nothing is lost or reordered.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "base/expected.hpp"
#include "net/blocking_pool.hpp"
#include "net/loop_task.hpp"
#include "net/runtime.hpp"
#include "server/shaper.hpp"
#include "server/delivery_queue.hpp"
#include "server/session.hpp"
#include "server/session_registry.hpp"
#include "tls/engine.hpp"

namespace tern::net {

class Connection;

// A worker thread's io_context and the connections pinned to it (touched only on that thread).
struct Worker {
    asio::io_context context{1};
    std::unordered_map<Connection*, std::shared_ptr<Connection>> connections;
};

// The server's handle on one bound session, as the registry and the resumption table hold it. Thread-safe:
// it posts to whichever connection holds the session now.
class SessionHandle final : public server::ClientHandle {
public:
    explicit SessionHandle(std::weak_ptr<Connection> owner) : owner_(std::move(owner)) {}

    void deliver(server::Envelope stanza) override;
    void kick(xmpp::StreamErrorCondition condition, std::string text) override;

    std::shared_ptr<Connection> owner() const;
    void set_owner(std::weak_ptr<Connection> owner);

private:
    mutable std::mutex mutex_;  // orders deliveries with set_owner()
    std::weak_ptr<Connection> owner_;
};

class Connection final : public server::SessionHost, public std::enable_shared_from_this<Connection> {
public:
    enum class Port { StartTls, DirectTls };

    // `listener` outlives the connection (the server keeps its listeners for its whole life).
    Connection(asio::ip::tcp::socket socket, const config::Listener& listener, Runtime& runtime, Worker& worker,
               BlockingPool& blocking);
    ~Connection() override;

    // On the worker's thread: registers with the worker, arms the deadline timer and starts reading.
    void start();
    // On the worker's thread: <system-shutdown/> and a clean close.
    void shutdown();
    // On the worker's thread: adopt the runtime's new snapshot and push what modules want pushed.
    void reloaded();
    // On the worker's thread, about once a minute: module pushes that are due.
    void tick(std::chrono::system_clock::time_point now);

    // server::SessionHost
    std::optional<crypto::ScramKeys> scram_keys(std::string_view domain, std::string_view local,
                                                crypto::Hash hash) override;
    std::chrono::milliseconds auth_checked(const std::string& account, bool failed) override;
    server::BindOutcome bind(const xmpp::Jid& full_jid) override;
    bool route(xml::Stanza&& stanza) override;
    void enable_resumption(std::string_view id) override;

    // Any thread (through SessionHandle): hand the work to this connection's worker. False, the stanza
    // left as it was, when max_pending_delivery_bytes / max_pending_deliveries are on their way already.
    bool post_deliver(server::Envelope& stanza);
    // Any thread: resource-constraint to the sender of a stanza that found no room.
    void refuse(const server::Envelope& stanza) const;
    void post_kick(xmpp::StreamErrorCondition condition, std::string text);

private:
    using Clock = std::chrono::steady_clock;

    // What moves from the old connection to the resuming one.
    struct Handover {
        server::ResumeState state;
        std::shared_ptr<SessionHandle> handle;
        server::SessionState module_state;
    };
    asio::awaitable<expected<Handover, server::ResumeFailure>> resume(server::Session::ResumeRequest request);
    // Runs on this (the old) connection's worker.
    asio::awaitable<expected<Handover, server::ResumeFailure>> hand_over(std::shared_ptr<Connection> self,
                                                                         std::shared_ptr<Connection> successor,
                                                                         std::uint32_t h);

    asio::awaitable<server::Envelopes> route_presence(xml::Stanza stanza);
    asio::awaitable<void> open();
    bool wants_action();
    LoopTask run(std::shared_ptr<Connection> self);  // `self` keeps the connection alive while it runs
    asio::awaitable<std::size_t> read_some();
    asio::awaitable<bool> read_proxy_header();
    asio::awaitable<bool> tls_handshake();
    asio::awaitable<void> carry_out_actions();
    std::optional<std::size_t> try_read();
    void receive(std::string_view bytes);
    void create_session(std::optional<server::TlsInfo> tls);
    server::TlsInfo tls_info() const;

    void pump();  // session output -> wire; a Close action -> begin_close()
    void uncount_address();  // gives back this connection's place in the per-address limits
    void send_plain(std::string_view bytes);
    void queue_tls_output();
    void flush();
    void on_written(const asio::error_code& ec);
    void begin_close();
    void connection_lost();  // the peer is gone: detach a resumable session, else stop()
    void detach();
    void stop();
    void end_session();
    // On the worker: deliveries into the session within the outbox bound; the rest bounces.
    void accept_delivery(const server::Envelope& stanza);
    void return_to_senders(std::vector<server::Bounce> bounces) const;  // any thread
    // What waits for the client here: the session's queue, or the wire when that is larger.
    std::size_t queued_bytes() const;
    void note_queue();  // the outbox may have drained: ends a stall
    Clock::time_point deadline() const;
    void arm_timer();
    void on_timer();
    void on_deadline();

    asio::ip::tcp::socket socket_;
    // Set to deadline() (auth, idle ping and timeout, close grace, resumption); never later than it. When
    // the deadline moves later, the timer fires early and is set again.
    asio::steady_timer timer_;
    const config::Listener& listener_;
    Port port_;
    Runtime& runtime_;
    Worker& worker_;
    BlockingPool& blocking_;
    Snapshot snapshot_;
    std::uint64_t id_;
    std::string address_;       // the peer's IP (the PROXY-protocol source when enabled)
    std::uint16_t port_number_ = 0;
    std::string limit_key_;     // what the per-address limits count address_ under
    bool counted_address_ = false;
    bool counted_authenticated_ = false;  // counted as a connection that proved a password

    std::unique_ptr<tls::Engine> tls_;
    std::unique_ptr<server::Session> session_;
    std::string pending_;  // bytes read before the session existed (after a PROXY header)
    std::string wire_;     // bytes waiting to be written (ciphertext once TLS is on)
    std::string writing_;  // bytes of the async_write in flight
    // Inbound bytes: reading pauses until read_after_ when the shaper is in debt (reading_paused_: no
    // wait for readability is pending, the timer resumes it).
    server::Shaper shaper_;
    Clock::time_point read_after_{};
    bool reading_paused_ = false;
    detail::Resumer paused_;  // the loop, parked while reading is paused
    void resume_reading();    // posts the parked loop's resumption
    server::OutboxStall stall_;
    // Deliveries posted to this worker and not yet accepted (any thread adds, the worker subtracts).
    const server::QueueBound pending_bound_;
    std::atomic<std::size_t> pending_bytes_{0};
    std::atomic<std::size_t> pending_stanzas_{0};
    std::shared_ptr<SessionHandle> handle_;  // while this connection holds a bound session
    // What route() left to run (Action::Route): an IQ, or a presence stanza on the blocking pool.
    server::IqReply pending_iq_;
    asio::awaitable<server::Envelopes> pending_presence_;
    // While it runs: deliveries wait here (in the awaiting frame), so they still reach the client after the
    // reply, as when routing was synchronous; the session's end waits for it too.
    server::Envelopes* held_ = nullptr;
    std::size_t held_bytes_ = 0;
    server::SessionState module_state_;

    Clock::time_point started_;
    Clock::time_point last_read_;
    Clock::time_point close_deadline_;
    Clock::time_point detached_until_;
    bool pinged_ = false;  // an XEP-0199 ping went out since the last read
    bool writing_active_ = false;
    bool closing_ = false;
    bool half_closed_ = false;
    bool detached_ = false;  // socket gone, Detached session kept for a resumption
    bool stopped_ = false;
};

}  // namespace tern::net
