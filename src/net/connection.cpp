#include "net/connection.hpp"

#include <algorithm>
#include <array>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "base/ip_prefix.hpp"
#include "base/log.hpp"
#include "net/proxy_protocol.hpp"
#include "store/accounts.hpp"

namespace tern::net {

namespace {

constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds close_grace{2};
constexpr std::size_t shrink_above = 64 * 1024;

std::atomic<std::uint64_t> next_connection_id{1};

// Idle connections hold no read buffer: each worker thread reads into this one.
thread_local std::array<char, 16 * 1024> read_buffer;

void release_if_large(std::string& buffer)
{
    buffer.clear();
    if (buffer.capacity() > shrink_above) std::string().swap(buffer);
}

// One account-store connection per thread (workers and the blocking pool), opened on first use.
store::AccountStore* thread_store(const std::filesystem::path& path)
{
    thread_local std::optional<store::AccountStore> store;
    thread_local std::filesystem::path opened;
    if (!store || opened != path) {
        auto result = store::AccountStore::open(path.string());
        if (!result) {
            log::error("store.open_failed", "path={} error={}", log::quote(path.string()),
                       log::quote(result.error().message));
            store.reset();
            return nullptr;
        }
        store = std::move(*result);
        opened = path;
    }
    return &*store;
}

void log_exception(std::exception_ptr error)
{
    if (!error) return;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        log::error("c2s.exception", "what={}", log::quote(e.what()));
    }
}

}  // namespace

//---------------------------------------------------------------------------------------------------------
// SessionHandle

void SessionHandle::deliver(server::Envelope stanza)
{
    std::shared_ptr<Connection> refused_by;
    {
        std::lock_guard lock(mutex_);
        if (auto owner = owner_.lock(); owner && !owner->post_deliver(stanza)) refused_by = std::move(owner);
    }
    // Outside the lock: the bounce goes to another handle (or this one).
    if (refused_by) refused_by->refuse(stanza);
}

void SessionHandle::kick(xmpp::StreamErrorCondition condition, std::string text)
{
    std::lock_guard lock(mutex_);
    if (auto owner = owner_.lock()) owner->post_kick(condition, std::move(text));
}

std::shared_ptr<Connection> SessionHandle::owner() const
{
    std::lock_guard lock(mutex_);
    return owner_.lock();
}

void SessionHandle::set_owner(std::weak_ptr<Connection> owner)
{
    std::lock_guard lock(mutex_);
    owner_ = std::move(owner);
}

//---------------------------------------------------------------------------------------------------------

Connection::Connection(asio::ip::tcp::socket socket, const config::Listener& listener, Runtime& runtime, Worker& worker,
                       BlockingPool& blocking)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      listener_(listener),
      port_(listener.mode == config::ListenerMode::DirectTls ? Port::DirectTls : Port::StartTls),
      runtime_(runtime),
      worker_(worker),
      blocking_(blocking),
      snapshot_(runtime.snapshot()),
      id_(next_connection_id.fetch_add(1, std::memory_order_relaxed)),
      shaper_(snapshot_.config->limits.max_inbound_bytes_per_second, snapshot_.config->limits.inbound_burst_bytes,
              Clock::now()),
      pending_bound_{snapshot_.config->limits.max_pending_delivery_bytes, snapshot_.config->limits.max_pending_deliveries},
      started_(Clock::now()),
      last_read_(started_)
{
    asio::error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    if (!ec) {
        // An IPv4 peer on a dual-stack socket is reported as IPv4, as a PROXY header's source is.
        address_ = base::normalize_ip(remote.address().to_string());
        port_number_ = remote.port();
    } else {
        address_ = "unknown";
    }
    runtime_.connections().fetch_add(1, std::memory_order_relaxed);
}

Connection::~Connection()
{
    runtime_.connections().fetch_sub(1, std::memory_order_relaxed);
}

void Connection::start()
{
    worker_.connections.emplace(this, shared_from_this());
    asio::error_code ec;
    socket_.non_blocking(true, ec);
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    arm_timer();
    run(shared_from_this());  // runs until its first wait
}

//---------------------------------------------------------------------------------------------------------
// Reading

// After the socket reported readable: the bytes now in read_buffer, 0 at the end of the stream or on an
// error, nullopt when there was nothing to read after all.
std::optional<std::size_t> Connection::try_read()
{
    asio::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(read_buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return std::nullopt;
    if (ec) return 0;
    last_read_ = Clock::now();
    pinged_ = false;
    read_after_ = shaper_.consume(n, last_read_);
    return n;
}

asio::awaitable<std::size_t> Connection::read_some()
{
    for (;;) {
        auto [wait_error] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, nothrow);
        if (wait_error || stopped_) co_return 0;
        if (const auto n = try_read()) co_return *n;
    }
}

asio::awaitable<bool> Connection::read_proxy_header()
{
    for (;;) {
        const std::size_t n = co_await read_some();
        if (n == 0) co_return false;
        pending_.append(read_buffer.data(), n);
        const ProxyParse parsed = parse_proxy_header(pending_);
        if (parsed.status == ProxyParse::Status::NeedMore) continue;
        if (parsed.status == ProxyParse::Status::Invalid) {
            log::info("c2s.proxy_header_invalid", "conn={} ip={} error={}", id_, address_, log::quote(parsed.error));
            co_return false;
        }
        if (parsed.header.has_address) {
            address_ = base::normalize_ip(parsed.header.source_address);
            port_number_ = parsed.header.source_port;
        }
        pending_.erase(0, parsed.consumed);
        co_return true;
    }
}

// The opening: a PROXY header, the limit on connections per address, a direct TLS handshake. No session
// afterwards: the connection is over. Its frame is gone once it returns, so an idle connection holds only
// run()'s.
asio::awaitable<void> Connection::open()
{
    const bool proxied = listener_.trusted_proxy(address_);
    if (proxied && !co_await read_proxy_header()) co_return;

    limit_key_ = runtime_.limits().key(address_);
    if (!runtime_.limits().try_connect(limit_key_)) {
        log::info("c2s.refused", "conn={} ip={} reason=max_connections_per_ip", id_, address_);
        co_return;
    }
    counted_address_ = true;

    if (listener_.proxy_protocol && !proxied) {
        // A direct client on a proxied listener: it may not claim another address.
        const std::size_t n = co_await read_some();
        if (n == 0) co_return;
        pending_.append(read_buffer.data(), n);
        if (starts_like_proxy_header(pending_)) {
            log::info("c2s.proxy_header_refused", "conn={} ip={} reason=not_in_proxy_from", id_, address_);
            co_return;
        }
    }
    log::debug("c2s.connect", "conn={} ip={} port={}", id_, address_, port_ == Port::DirectTls ? "direct-tls" : "starttls");

    if (port_ == Port::DirectTls) {
        tls_ = std::make_unique<tls::Engine>(tls::Engine::server(snapshot_.tls, {.direct_tls = true}));
        if (!pending_.empty()) tls_->feed(std::exchange(pending_, {}));
        if (!co_await tls_handshake()) co_return;
        create_session(tls_info());
        receive({});  // records that came with the client's Finished
    } else {
        create_session(std::nullopt);
        if (!pending_.empty()) receive(std::exchange(pending_, {}));
    }
}

// Writes what the session has to say; true if it also asks for an action that has to wait.
bool Connection::wants_action()
{
    pump();
    note_queue();  // acknowledgements may have emptied the XEP-0198 queue
    const auto action = session_->action();
    return action != server::Session::Action::None && action != server::Session::Action::Close;
}

// The connection's one coroutine, for its whole life (see connection.hpp and loop_task.hpp). Flat on
// purpose: while idle it is suspended in readable() below, and no nested frame is alive; the opening and
// the session's actions are Asio coroutines it awaits only while they run.
LoopTask Connection::run(std::shared_ptr<Connection> /*self: kept in the frame*/)
{
    try {
        for (;;) {
            // One await of Asio coroutines, for the opening and for the session's actions: each co_await
            // site costs its awaiter's bytes in this frame for the connection's whole life.
            if (session_ && (stopped_ || detached_)) co_return;
            if (!session_ || wants_action()) {
                // Not a ?: inside the co_await expression: g++ 12 destroys such temporaries twice.
                Awaited<void> step(socket_, session_ ? carry_out_actions() : open());
                co_await step;
                if (!session_) co_return stop();  // the opening failed
                continue;
            }
            if (read_after_ > Clock::now()) {
                // Over the inbound rate: not reading is the backpressure; the timer resumes reading.
                reading_paused_ = true;
                if (read_after_ < timer_.expiry()) arm_timer();
                co_await parked(paused_);
                reading_paused_ = false;
                continue;
            }
            // Input may have moved the deadline earlier (a session that just bound is pinged on a shorter clock).
            if (deadline() < timer_.expiry()) arm_timer();
            const asio::error_code ec = co_await readable(socket_);
            if (stopped_ || detached_) co_return;
            if (ec) {
                connection_lost();
                continue;
            }
            const auto n = try_read();
            if (!n) continue;
            if (*n == 0) {
                connection_lost();
                continue;
            }
            if (closing_) continue;  // draining until the peer closes or the grace period ends
            receive({read_buffer.data(), *n});
        }
    } catch (...) {
        log_exception(std::current_exception());
        stop();
    }
}

void Connection::receive(std::string_view bytes)
{
    if (!tls_) {
        session_->receive(bytes);
        return;
    }
    if (!bytes.empty()) tls_->feed(bytes);
    std::string plain;
    const auto status = tls_->read(plain);
    queue_tls_output();
    if (!plain.empty()) session_->receive(plain);
    if (status == tls::Status::Failed) {
        log::debug("c2s.tls_error", "conn={} error={}", id_, log::quote(tls_->last_error()));
        connection_lost();
    } else if (status == tls::Status::Closed) {
        connection_lost();
    }
}

asio::awaitable<void> Connection::carry_out_actions()
{
    while (!stopped_ && session_) {
        pump();
        switch (session_->action()) {
        case server::Session::Action::StartTls:
            tls_ = std::make_unique<tls::Engine>(tls::Engine::server(snapshot_.tls));
            if (!co_await tls_handshake()) co_return stop();
            session_->tls_established(tls_info());
            receive({});  // records that came with the client's Finished
            break;
        case server::Session::Action::RunBlocking: {
            // Named, not a temporary in the co_await expression: g++ 12 destroyed that one twice.
            sasl::Step step;
            std::function<void()> job = [&step, sasl_job = session_->take_blocking_job()] { step = sasl_job(); };
            co_await blocking_.run(std::move(job));
            session_->blocking_done(std::move(step));
            break;
        }
        case server::Session::Action::Route: {
            // The dispatcher and its handlers stay alive through a reload while the handler runs.
            const Snapshot snapshot = snapshot_;
            server::Envelopes held;
            held_ = &held;
            held_bytes_ = 0;
            server::Envelopes reply;
            if (pending_iq_.valid()) {
                if (auto answer = co_await std::exchange(pending_iq_, {})) reply.push_back(std::move(*answer));
            } else {
                reply = co_await std::exchange(pending_presence_, {});
            }
            held_ = nullptr;
            if (stopped_) {  // the connection ended meanwhile (see stop())
                for (const auto& stanza : held) accept_delivery(stanza);  // bounces
                co_return end_session();
            }
            if (!reply.empty()) session_->deliver(reply);
            for (const auto& stanza : held) accept_delivery(stanza);
            session_->routed();
            break;
        }
        case server::Session::Action::Wait: {
            asio::steady_timer wait(socket_.get_executor(), session_->wait_time());
            co_await wait.async_wait(nothrow);
            if (!stopped_) session_->wait_done();
            break;
        }
        case server::Session::Action::Resume: {
            auto outcome = co_await resume(session_->resume_request());
            if (!outcome) {
                session_->resume_failed(outcome.error());
                break;
            }
            handle_ = std::move(outcome->handle);
            module_state_ = std::move(outcome->module_state);
            session_->resumed(std::move(outcome->state));
            if (stopped_) end_session();  // this connection ended while the state was on its way
            break;
        }
        case server::Session::Action::None:
        case server::Session::Action::Close:
            co_return;
        }
    }
}

asio::awaitable<bool> Connection::tls_handshake()
{
    for (;;) {
        const auto status = tls_->handshake();
        queue_tls_output();
        if (status == tls::Status::Done) {
            log::debug("c2s.tls", "conn={} version={} cipher={} sni={}", id_, tls_->protocol_version(), tls_->cipher(),
                       log::quote(tls_->server_name()));
            co_return true;
        }
        if (status != tls::Status::WantRead) {
            log::info("c2s.tls_handshake_failed", "conn={} ip={} error={}", id_, address_, log::quote(tls_->last_error()));
            co_return false;
        }
        const std::size_t n = co_await read_some();
        if (n == 0) co_return false;
        tls_->feed({read_buffer.data(), n});
    }
}

server::TlsInfo Connection::tls_info() const
{
    server::TlsInfo info;
    for (const auto& type : tls_->channel_binding_types()) {
        if (auto data = tls_->channel_binding(type)) info.bindings.push_back({type, std::move(*data)});
    }
    info.server_name = std::string(tls_->server_name());
    return info;
}

void Connection::create_session(std::optional<server::TlsInfo> tls)
{
    session_ = std::make_unique<server::Session>(snapshot_.session, *this, std::move(tls));
}

//---------------------------------------------------------------------------------------------------------
// Writing

void Connection::pump()
{
    if (!session_ || stopped_) return;
    if (session_->has_output()) send_plain(session_->take_output());
    if (session_->action() == server::Session::Action::Close) begin_close();
}

void Connection::send_plain(std::string_view bytes)
{
    if (stopped_ || half_closed_ || detached_) return;
    if (tls_) {
        tls_->write(bytes);
        queue_tls_output();
    } else {
        wire_.append(bytes);
    }
    if (wire_.size() > 2 * std::size_t{snapshot_.config->limits.max_outbox_bytes}) {
        // Deliveries are admitted within max_outbox_bytes (accept_delivery), so only the session's own
        // replies get here: a client that asks and never reads is not buffered for ever. To a resumable
        // session this is a dropped connection (its unacknowledged stanzas are kept, within their bound).
        log::info("c2s.outbox_full", "conn={} ip={} bytes={}", id_, address_, wire_.size());
        return connection_lost();
    }
    flush();
}

void Connection::queue_tls_output()
{
    if (!tls_ || !tls_->has_outgoing()) return;
    if (wire_.empty())
        wire_ = tls_->take_outgoing();
    else
        wire_.append(tls_->take_outgoing());
    flush();
}

// Starts writing wire_ unless a write is in flight (its completion comes back here).
void Connection::flush()
{
    if (writing_active_) return;
    if (stopped_ || detached_ || wire_.empty()) {
        // Going idle: keep no buffer (the replies of a login leave about 0.5-0.8 KB of capacity here).
        std::string().swap(writing_);
        std::string().swap(wire_);
        if (closing_ && !half_closed_ && !stopped_ && !detached_) {
            // Everything including our </stream:stream> and close_notify is out: half-close and give the
            // peer a moment to close its side.
            asio::error_code ec;
            socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
            half_closed_ = true;
        }
        return;
    }
    writing_.swap(wire_);
    writing_active_ = true;
    asio::async_write(socket_, asio::buffer(writing_),
                      [self = shared_from_this()](const asio::error_code& ec, std::size_t) { self->on_written(ec); });
}

void Connection::on_written(const asio::error_code& ec)
{
    writing_active_ = false;
    release_if_large(writing_);
    if (ec) connection_lost();  // a Detached session stays until its deadline
    flush();
    note_queue();
}

Connection::Clock::time_point Connection::deadline() const
{
    const auto& limits = snapshot_.config->limits;
    if (detached_) return detached_until_;
    if (closing_) return close_deadline_;
    const auto idle = last_read_ + limits.idle_timeout;
    if (!session_ || session_->state() != server::Session::State::Bound)
        return std::min(idle, started_ + limits.auth_timeout);
    // A full outbox that does not drain: the client reads nothing.
    const auto stalled = stall_.deadline(limits.outbox_stall_timeout).value_or(Clock::time_point::max());
    // XEP-0199: a quiet client is pinged when two thirds of the idle timeout have passed; any answer (any
    // bytes) restarts the clock.
    if (!pinged_) return std::min(stalled, last_read_ + limits.idle_timeout * 2 / 3);
    return std::min(stalled, idle);
}

// The one pending wait on timer_; setting the expiry cancels the previous wait, whose handler then does
// nothing.
void Connection::arm_timer()
{
    if (stopped_) return;
    timer_.expires_at(reading_paused_ ? std::min(deadline(), read_after_) : deadline());
    timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
        if (ec != asio::error::operation_aborted) self->on_timer();
    });
}

void Connection::resume_reading()
{
    if (!paused_) return;
    asio::post(socket_.get_executor(), [loop = std::move(paused_)]() mutable { loop.resume(); });
}

void Connection::on_timer()
{
    if (stopped_) return;
    const auto now = Clock::now();
    if (reading_paused_ && now >= read_after_) resume_reading();
    if (now >= deadline()) on_deadline();
    arm_timer();
}

void Connection::on_deadline()
{
    if (detached_) {
        log::info("c2s.resumption_expired", "conn={} jid={}", id_, log::quote(session_->jid().str()));
        return stop();
    }
    if (closing_ || !session_) return stop();
    const bool bound = session_->state() == server::Session::State::Bound;
    const auto stalled = stall_.deadline(snapshot_.config->limits.outbox_stall_timeout);
    if (bound && stalled && *stalled <= Clock::now()) {
        // Its outbox has been full for outbox_stall_timeout: a client that reads nothing (a slow one
        // drains it now and then). To a resumable session this is a dropped connection.
        log::info("c2s.outbox_stalled", "conn={} ip={} jid={} bytes={}", id_, address_,
                  log::quote(session_->jid().str()), queued_bytes());
        stall_ = {};
        return connection_lost();
    }
    if (bound && !pinged_) {
        pinged_ = true;
        session_->ping();
        return pump();
    }
    if (bound && session_->resumable()) {
        // A resumable client that went silent is treated like a dropped connection.
        log::info("c2s.idle_detach", "conn={} jid={}", id_, log::quote(session_->jid().str()));
        return connection_lost();
    }
    session_->fail(xmpp::StreamErrorCondition::ConnectionTimeout,
                   bound ? "no data received within the idle timeout" : "authentication took too long");
    pump();
}

//---------------------------------------------------------------------------------------------------------
// Closing

void Connection::begin_close()
{
    if (closing_ || stopped_) return;
    if (detached_) return stop();
    closing_ = true;
    close_deadline_ = Clock::now() + close_grace;
    arm_timer();
    if (tls_) {
        tls_->shutdown();
        queue_tls_output();
    }
    flush();
}

void Connection::connection_lost()
{
    if (stopped_ || detached_) return;
    if (session_) session_->peer_closed();
    if (session_ && session_->state() == server::Session::State::Detached) return detach();
    stop();
}

void Connection::detach()
{
    detached_ = true;
    resume_reading();  // a parked loop sees detached_ and ends
    detached_until_ = Clock::now() + session_->resume_timeout();
    asio::error_code ec;
    socket_.close(ec);
    // A detached session holds no TLS state and no buffers, only its queue.
    tls_.reset();
    std::string().swap(wire_);
    std::string().swap(pending_);
    uncount_address();
    log::info("c2s.detached", "conn={} jid={} resume_timeout={}", id_, log::quote(session_->jid().str()),
              session_->resume_timeout().count());
    arm_timer();
}

void Connection::stop()
{
    if (stopped_) return;
    stopped_ = true;
    resume_reading();  // a parked loop sees stopped_ and ends
    asio::error_code ec;
    socket_.close(ec);
    timer_.cancel();
    // A stanza still being routed may touch the session's module state on the blocking pool: the session's
    // end waits for it (carry_out_actions).
    if (session_ && !held_) end_session();
    uncount_address();
    log::debug("c2s.disconnect", "conn={} ip={} jid={}", id_, address_,
               session_ && session_->authenticated() ? log::quote(session_->jid().str()) : std::string("-"));
    // Pending operations hold their own references; this may drop the last one held by the worker.
    auto self = shared_from_this();
    worker_.connections.erase(this);
}

// The bound session is over for good: not detached for a resumption, not moved to another connection. The
// one place where its end is made known to the rest of the server (an unavailable presence belongs here).
void Connection::end_session()
{
    if (!handle_) return;
    runtime_.registry().unbind(session_->jid(), handle_.get());
    if (session_->resumable()) runtime_.resumptions().remove(session_->sm_id(), handle_.get());
    // The unavailable broadcast reads the roster: on the blocking pool, the connection kept alive meanwhile.
    asio::post(blocking_.pool(), [self = shared_from_this(), handle = handle_] {
        self->runtime_.router().session_ended(
            {self->session_->jid(), self->address_, self->port_number_, &self->module_state_, handle.get()});
    });
    handle_.reset();
    auto bounces = server::bounces(session_->take_unacked());
    if (bounces.empty()) return;
    log::info("c2s.unacked_bounced", "jid={} count={}", log::quote(session_->jid().str()), bounces.size());
    return_to_senders(std::move(bounces));
}

void Connection::shutdown()
{
    if (!session_ || detached_) return stop();
    session_->fail(xmpp::StreamErrorCondition::SystemShutdown, "the server is shutting down");
    pump();
}

void Connection::reloaded()
{
    snapshot_ = runtime_.snapshot();
    if (stopped_ || !session_ || session_->state() != server::Session::State::Bound) return;
    server::Envelopes pushes;
    snapshot_.hooks->on_reload({session_->jid(), address_, port_number_, &module_state_}, pushes);
    if (pushes.empty()) return;
    session_->deliver(pushes);
    pump();
}

void Connection::tick(std::chrono::system_clock::time_point now)
{
    if (stopped_ || !session_ || session_->state() != server::Session::State::Bound) return;
    server::Envelopes pushes;
    snapshot_.hooks->on_tick({session_->jid(), address_, port_number_, &module_state_}, now, pushes);
    if (pushes.empty()) return;
    session_->deliver(pushes);
    pump();
}

//---------------------------------------------------------------------------------------------------------
// What the session asks of the outside world

std::optional<crypto::ScramKeys> Connection::scram_keys(std::string_view domain, std::string_view local, crypto::Hash hash)
{
    store::AccountStore* store = thread_store(runtime_.accounts_path());
    if (!store) return std::nullopt;
    auto keys = store->scram_keys(domain, local, hash);
    if (!keys) {
        log::error("store.read_failed", "error={}", log::quote(keys.error().message));
        return std::nullopt;
    }
    return *keys;
}

std::chrono::milliseconds Connection::auth_checked(const std::string& account, bool failed)
{
    const auto delay = runtime_.limits().auth_checked(limit_key_, account, Clock::now(), failed);
    if (!failed && counted_address_ && !counted_authenticated_) {
        runtime_.limits().authenticated(limit_key_);
        counted_authenticated_ = true;
    }
    return delay;
}

void Connection::uncount_address()
{
    if (!counted_address_) return;
    runtime_.limits().disconnected(limit_key_, counted_authenticated_);
    counted_address_ = false;
}

server::BindOutcome Connection::bind(const xmpp::Jid& full_jid)
{
    auto handle = std::make_shared<SessionHandle>(weak_from_this());
    auto result = runtime_.registry().bind(full_jid, handle);
    if (result.outcome != server::BindOutcome::Bound) return result.outcome;
    handle_ = std::move(handle);
    if (result.replaced) result.replaced->kick(xmpp::StreamErrorCondition::Conflict, "replaced by a newer session");
    return result.outcome;
}

bool Connection::route(xml::Stanza&& stanza)
{
    if (stanza.name() == "presence") {
        // RFC 6121 presence reads and writes the roster store: the session waits while that runs on the pool.
        pending_presence_ = route_presence(std::move(stanza));
        return false;
    }
    server::Envelopes reply;
    const server::Requester sender{session_->jid(), address_, port_number_, &module_state_, handle_.get()};
    runtime_.router().route(std::move(stanza), {sender, *snapshot_.session, *snapshot_.iq, std::chrono::system_clock::now(),
                                                reply, pending_iq_, snapshot_.hooks.get()});
    session_->deliver(reply);
    return !pending_iq_.valid();
}

asio::awaitable<server::Envelopes> Connection::route_presence(xml::Stanza stanza)
{
    const Snapshot snapshot = snapshot_;
    const server::Requester sender{session_->jid(), address_, port_number_, &module_state_, handle_.get()};
    server::Envelopes reply;
    std::function<void()> job = [&] {
        server::IqReply none;  // presence leaves nothing pending
        runtime_.router().route(std::move(stanza), {sender, *snapshot.session, *snapshot.iq,
                                                    std::chrono::system_clock::now(), reply, none, snapshot.hooks.get()});
    };
    co_await blocking_.run(std::move(job));
    co_return reply;
}

void Connection::enable_resumption(std::string_view id)
{
    if (handle_) runtime_.resumptions().add(std::string(id), session_->jid().bare_str(), handle_);
}

bool Connection::post_deliver(server::Envelope& stanza)
{
    const std::size_t size = stanza.bytes().size();
    if (!pending_bound_.admits(pending_bytes_.load(std::memory_order_relaxed),
                               pending_stanzas_.load(std::memory_order_relaxed), size)) {
        log::debug("c2s.delivery_refused", "conn={} pending_bytes={}", id_, pending_bytes_.load());
        return false;
    }
    pending_bytes_.fetch_add(size, std::memory_order_relaxed);
    pending_stanzas_.fetch_add(1, std::memory_order_relaxed);
    asio::post(socket_.get_executor(), [self = shared_from_this(), stanza = std::move(stanza)] {
        self->pending_bytes_.fetch_sub(stanza.bytes().size(), std::memory_order_relaxed);
        self->pending_stanzas_.fetch_sub(1, std::memory_order_relaxed);
        // Held while a stanza of this session is routed (connection.hpp), within the outbox bound.
        if (self->held_ && !self->stopped_ &&
            self->held_bytes_ + stanza.bytes().size() <= self->snapshot_.config->limits.max_outbox_bytes) {
            self->held_bytes_ += stanza.bytes().size();
            self->held_->push_back(std::move(stanza));
            return;
        }
        self->accept_delivery(stanza);
    });
    return true;
}

void Connection::accept_delivery(const server::Envelope& stanza)
{
    // The session ended after this was posted: as for a resource that is gone (RFC 6121 §8.5.3.2.1).
    if (stopped_ || !session_) {
        if (auto bounce = server::bounce(stanza)) return_to_senders({std::move(*bounce)});
        return;
    }
    const auto& limits = snapshot_.config->limits;
    const server::QueueBound bound{limits.max_outbox_bytes, limits.max_queued_stanzas};
    if (bound.admits(queued_bytes(), session_->queued_stanzas(), stanza.bytes().size())) {
        session_->deliver(stanza);
        pump();
        return;
    }
    if (!stall_.stalled())
        log::info("c2s.outbox_refusing", "conn={} jid={} bytes={} stanzas={}", id_, log::quote(session_->jid().str()),
                  queued_bytes(), session_->queued_stanzas());
    stall_.refused(Clock::now());
    pump();
    if (!detached_ && deadline() < timer_.expiry()) arm_timer();
    refuse(stanza);
}

void Connection::refuse(const server::Envelope& stanza) const
{
    if (auto bounce = server::refusal(stanza, xmpp::StanzaErrorCondition::ResourceConstraint))
        return_to_senders({std::move(*bounce)});
}

void Connection::return_to_senders(std::vector<server::Bounce> bounces) const
{
    for (auto& bounce : bounces) {
        if (auto sender = runtime_.registry().find(bounce.to)) sender->deliver(std::move(bounce.stanza));
    }
}

std::size_t Connection::queued_bytes() const
{
    return std::max(wire_.size() + writing_.size(), session_ ? session_->queued_bytes() : 0);
}

void Connection::note_queue()
{
    if (stall_.stalled()) stall_.queued(queued_bytes(), snapshot_.config->limits.max_outbox_bytes);
}

void Connection::post_kick(xmpp::StreamErrorCondition condition, std::string text)
{
    asio::post(socket_.get_executor(), [self = shared_from_this(), condition, text = std::move(text)] {
        if (self->stopped_ || !self->session_) return;
        self->session_->fail(condition, text);
        self->pump();
    });
}

//---------------------------------------------------------------------------------------------------------
// XEP-0198 resumption (see connection.hpp)

asio::awaitable<expected<Connection::Handover, server::ResumeFailure>> Connection::resume(
    server::Session::ResumeRequest request)
{
    const auto handle = runtime_.resumptions().find(request.previd, session_->jid().bare_str());
    const auto previous = handle ? handle->owner() : nullptr;
    if (!previous) co_return make_unexpected(server::ResumeFailure{});
    co_return co_await asio::co_spawn(previous->socket_.get_executor(),
                                      previous->hand_over(previous, shared_from_this(), request.h), asio::use_awaitable);
}

asio::awaitable<expected<Connection::Handover, server::ResumeFailure>> Connection::hand_over(
    std::shared_ptr<Connection> /*self: keeps this connection alive*/, std::shared_ptr<Connection> successor,
    std::uint32_t h)
{
    if (stopped_ || !handle_ || !session_) co_return make_unexpected(server::ResumeFailure{});
    if (auto refused = session_->check_takeover(h)) co_return make_unexpected(*refused);

    // New deliveries go to the successor from now on (it holds them until the state arrives); the session
    // here only queues. An attached client gets its conflict stream error.
    auto handle = std::exchange(handle_, nullptr);
    handle->set_owner(successor);
    session_->hand_over();
    pump();
    // Deliveries posted here before the switch are ahead of this in the worker's queue: let them land in
    // the session's queue before it moves.
    co_await asio::post(socket_.get_executor(), asio::use_awaitable);
    // A stanza of this session still being routed on the blocking pool uses its module state: let it end.
    while (held_) {
        asio::steady_timer wait(socket_.get_executor(), std::chrono::milliseconds(1));
        co_await wait.async_wait(nothrow);
    }

    Handover handover{session_->take_resume_state(h), std::move(handle), std::move(module_state_)};
    log::info("c2s.handed_over", "conn={} successor={} jid={}", id_, successor->id_,
              log::quote(handover.state.jid.str()));
    if (detached_) stop();
    co_return handover;
}

}  // namespace tern::net
