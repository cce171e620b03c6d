#include "loadgen/client.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <utility>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "xmpp/ns.hpp"

namespace tern::loadgen {

namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds close_wait{5000};

// One thread runs all clients, and each read is consumed before the next co_await.
std::array<char, 16 * 1024> read_buffer;

std::string sasl_condition(const xml::Stanza& failure)
{
    const auto condition = failure.root().first_child_element();
    return condition ? std::string(condition.name()) : std::string("no-condition");
}

}  // namespace

Client::Client(asio::any_io_executor executor, const ClientConfig& config)
    : config_(config), socket_(executor), timer_(executor), tokenizer_(xml::Limits{.max_stanza_bytes = 1 << 20})
{
}

void Client::begin_step(std::string_view step)
{
    step_ = std::string(step);
    deadline_ = std::chrono::steady_clock::now() + config_.step_timeout;
}

bool Client::fail(std::string kind, std::string detail)
{
    if (failure_.kind.empty()) failure_ = {std::move(kind), std::move(detail)};
    return false;
}

bool Client::fail_here(std::string_view what, std::string detail)
{
    return fail(std::string(what) + ":" + step_, std::move(detail));
}

//---------------------------------------------------------------------------------------------------------
// Bytes

asio::awaitable<bool> Client::write_raw(std::string bytes)
{
    timer_.expires_at(deadline_);
    auto result = co_await (asio::async_write(socket_, asio::buffer(bytes), nothrow) || timer_.async_wait(nothrow));
    if (result.index() == 1) co_return fail_here("timeout", "writing to the server timed out");
    const auto [ec, n] = std::get<0>(result);
    if (ec) co_return fail_here("closed", "write failed: " + ec.message());
    co_return true;
}

asio::awaitable<bool> Client::flush()
{
    // In the message scenario a sender and a receiver share the connection: one of them writes at a time,
    // and it also writes what the other queued meanwhile (the other returns at once).
    if (writing_) co_return true;
    writing_ = true;
    bool ok = true;
    for (;;) {
        std::string bytes = !tls_ ? std::exchange(out_, {}) : tls_->has_outgoing() ? tls_->take_outgoing() : std::string();
        if (bytes.empty()) break;
        ok = co_await write_raw(std::move(bytes));
        if (!ok) break;
    }
    writing_ = false;
    co_return ok;
}

asio::awaitable<bool> Client::send(std::string_view plain)
{
    if (!tls_)
        out_.append(plain);
    else if (tls_->write(plain) != tls::Status::Done)
        co_return fail("tls", "TLS write failed: " + tls_->last_error());
    co_return co_await flush();
}

asio::awaitable<bool> Client::send_stanzas(std::string_view stanzas)
{
    deadline_ = std::chrono::steady_clock::now() + config_.step_timeout;
    co_return co_await send(stanzas);
}

bool Client::take_input()
{
    for (;;) {
        asio::error_code ec;
        const std::size_t n = socket_.read_some(asio::buffer(read_buffer), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) return true;
        if (ec) {
            eof_ = true;
            return true;
        }
        if (tls_) {
            tls_->feed({read_buffer.data(), n});
            const auto status = tls_->read(plain_);
            if (status == tls::Status::Failed) return fail("tls", "TLS error: " + tls_->last_error());
            if (status == tls::Status::Closed) eof_ = true;
        } else {
            plain_.append(read_buffer.data(), n);
        }
        if (n < read_buffer.size()) return true;
    }
}

asio::awaitable<bool> Client::read_more()
{
    if (eof_) co_return fail_here("closed", "the server closed the connection");
    timer_.expires_at(deadline_);
    auto result = co_await (socket_.async_wait(asio::ip::tcp::socket::wait_read, nothrow) || timer_.async_wait(nothrow));
    if (result.index() == 1) co_return fail_here("timeout", "no answer from the server within the step timeout");
    if (const auto [ec] = std::get<0>(result); ec) co_return fail_here("closed", "socket error: " + ec.message());
    const std::size_t before = plain_.size();
    if (!take_input()) co_return false;
    if (!co_await flush()) co_return false;  // alerts, key updates
    if (eof_ && plain_.size() == before) co_return fail_here("closed", "the server closed the connection");
    co_return true;
}

//---------------------------------------------------------------------------------------------------------
// XML

asio::awaitable<Client::Received> Client::next_event()
{
    for (;;) {
        if (!plain_.empty()) {
            tokenizer_.feed(plain_);
            plain_.clear();
        }
        const xml::Event event = tokenizer_.next();
        switch (event.kind) {
        case xml::EventKind::NeedMore:
            if (!co_await read_more()) co_return Received{};
            continue;
        case xml::EventKind::Error:
            fail_here("protocol", "the server sent bad XML: " + tokenizer_.error().text);
            co_return Received{};
        case xml::EventKind::Stanza: {
            auto stanza = xml::Stanza::parse(event, tokenizer_.header().scope());
            if (!stanza) {
                fail_here("protocol", "the server sent an unparsable element");
                co_return Received{};
            }
            if (stanza->name() == "error" && stanza->ns() == xmpp::ns::streams) {
                const auto condition = stanza->root().first_child_element();
                fail("stream-error:" + std::string(condition ? condition.name() : "none"),
                     "stream error during " + step_ + ": " + stanza->serialize());
                co_return Received{};
            }
            co_return Received{event.kind, std::move(*stanza)};
        }
        case xml::EventKind::StreamOpen:
        case xml::EventKind::StreamClose:
            co_return Received{event.kind, std::nullopt};
        }
    }
}

asio::awaitable<std::optional<xml::Stanza>> Client::next_stanza()
{
    Received r = co_await next_event();
    if (r.kind == xml::EventKind::NeedMore) co_return std::nullopt;
    if (r.kind != xml::EventKind::Stanza) {
        fail_here("protocol", "expected an element, got the stream's start or end");
        co_return std::nullopt;
    }
    co_return std::move(r.stanza);
}

//---------------------------------------------------------------------------------------------------------
// Negotiation

asio::awaitable<bool> Client::connect(std::optional<std::uint32_t> source)
{
    begin_step("connect");
    asio::error_code ec;
    socket_.open(asio::ip::tcp::v4(), ec);
    if (ec) co_return fail("socket", "cannot create a socket: " + ec.message());
    if (source) {
        // Pick the port at connect time, per (source, destination), not at bind time per source address.
        const int one = 1;
        ::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        socket_.bind({asio::ip::address_v4(*source), 0}, ec);
        if (ec) co_return fail("bind", "cannot bind to " + format_ipv4(*source) + ": " + ec.message());
    }
    timer_.expires_at(deadline_);
    auto result = co_await (socket_.async_connect(config_.server, nothrow) || timer_.async_wait(nothrow));
    if (result.index() == 1) co_return fail("timeout:connect", "connect timed out");
    if (const auto [error] = std::get<0>(result); error) co_return fail("connect", "connect failed: " + error.message());
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    socket_.non_blocking(true, ec);
    co_return true;
}

asio::awaitable<bool> Client::handshake()
{
    begin_step("tls");
    tls::ClientOptions options;
    options.server_name = config_.domain;
    if (config_.transport == Transport::DirectTls) options.alpn = {"xmpp-client"};
    tls_.emplace(tls::Engine::client(config_.tls, options));
    for (;;) {
        const auto status = tls_->handshake();
        if (!co_await flush()) co_return false;
        if (status == tls::Status::Done) break;
        if (status != tls::Status::WantRead) co_return fail("tls", "TLS handshake failed: " + tls_->last_error());
        timer_.expires_at(deadline_);
        auto result =
            co_await (socket_.async_wait(asio::ip::tcp::socket::wait_read, nothrow) || timer_.async_wait(nothrow));
        if (result.index() == 1) co_return fail("timeout:tls", "TLS handshake timed out");
        for (;;) {
            asio::error_code ec;
            const std::size_t n = socket_.read_some(asio::buffer(read_buffer), ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again) break;
            if (ec) co_return fail("closed:tls", "connection closed in the TLS handshake");
            tls_->feed({read_buffer.data(), n});
        }
    }
    // Application data may have come with the server's last flight.
    if (tls_->read(plain_) == tls::Status::Failed) co_return fail("tls", "TLS error: " + tls_->last_error());
    co_return co_await flush();
}

asio::awaitable<std::optional<xml::Stanza>> Client::open_stream()
{
    tokenizer_.restart();
    if (!co_await send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                       "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='" +
                       config_.domain + "'>"))
        co_return std::nullopt;
    const Received header = co_await next_event();
    if (header.kind == xml::EventKind::NeedMore) co_return std::nullopt;
    if (header.kind != xml::EventKind::StreamOpen) {
        fail_here("protocol", "expected the server's stream header");
        co_return std::nullopt;
    }
    auto features = co_await next_stanza();
    if (features && (features->name() != "features" || features->ns() != xmpp::ns::streams)) {
        fail_here("protocol", "expected <stream:features/>, got <" + std::string(features->name()) + "/>");
        co_return std::nullopt;
    }
    co_return features;
}

asio::awaitable<bool> Client::starttls()
{
    begin_step("starttls");
    if (!co_await send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")) co_return false;
    const auto proceed = co_await next_stanza();
    if (!proceed) co_return false;
    if (proceed->name() != "proceed") co_return fail_here("protocol", "expected <proceed/>");
    co_return co_await handshake();
}

bool Client::sasl_reply_is(const std::optional<xml::Stanza>& reply, std::string_view expected, const std::string& user)
{
    if (!reply) return false;
    if (reply->name() == "failure") return fail("sasl:" + sasl_condition(*reply), "authentication failed for " + user);
    if (reply->name() != expected) return fail_here("protocol", "expected <" + std::string(expected) + "/>");
    return true;
}

std::optional<sasl::ScramClient> Client::make_scram(const std::string& user, const std::string& password,
                                                    std::optional<sasl::SaltedPassword> salted)
{
    sasl::ScramClientOptions options;
    options.salted = std::move(salted);
    if (config_.channel_binding) {
        const auto binding = tls_ ? tls_->channel_binding("tls-exporter") : std::nullopt;
        if (!binding) {
            fail("protocol:sasl", "no tls-exporter channel binding on this connection");
            return std::nullopt;
        }
        options.gs2_flag = "p=tls-exporter";
        options.binding_data = *binding;
    }
    return sasl::ScramClient(config_.hash, user, password, std::move(options));
}

asio::awaitable<bool> Client::authenticate(const std::string& user, const std::string& password,
                                           ScramKeyCache& keys, std::uint32_t account)
{
    begin_step("sasl");
    auto scram = make_scram(user, password, keys.lookup(account, config_.hash));
    if (!scram) co_return false;
    if (!co_await send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + config_.mechanism + "'>" +
                       crypto::base64_encode(scram->client_first()) + "</auth>"))
        co_return false;

    auto reply = co_await next_stanza();
    if (!sasl_reply_is(reply, "challenge", user)) co_return false;
    const auto server_first = crypto::base64_decode(reply->root().text());
    const auto final_message = server_first ? scram->client_final(*server_first) : std::nullopt;
    if (!final_message) co_return fail_here("protocol", "unusable SCRAM server-first message");
    keys.record(account, config_.hash, scram->salted_password());
    if (!co_await send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + crypto::base64_encode(*final_message) +
                       "</response>"))
        co_return false;

    reply = co_await next_stanza();
    if (!sasl_reply_is(reply, "success", user)) co_return false;
    const auto server_final = crypto::base64_decode(reply->root().text());
    if (!server_final || !scram->verify_server_final(*server_final))
        co_return fail_here("protocol", "the server's SCRAM signature does not verify");
    co_return true;
}

asio::awaitable<bool> Client::bind(const xml::Stanza& features)
{
    begin_step("bind");
    if (!features.root().child("bind", xmpp::ns::bind)) co_return fail_here("protocol", "no resource binding offered");
    if (!co_await send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>"))
        co_return false;
    const auto reply = co_await next_stanza();
    if (!reply) co_return false;
    if (reply->name() != "iq" || reply->id() != "bind1") co_return fail_here("protocol", "expected the bind result");
    if (reply->type() == "error") {
        const auto error = reply->root().child("error", xmpp::ns::client).first_child_element();
        co_return fail("bind:" + std::string(error ? error.name() : "none"), "bind refused");
    }
    jid_ = std::string(reply->root().child("bind", xmpp::ns::bind).child("jid", xmpp::ns::bind).text());
    if (jid_.empty()) co_return fail_here("protocol", "the bind result has no JID");
    // RFC 3921's session establishment: still offered by Prosody and ejabberd, but as <optional/> (RFC 6121).
    const auto session = features.root().child("session", xmpp::ns::session);
    if (session && !session.child("optional", xmpp::ns::session)) co_return co_await start_session();
    co_return true;
}

asio::awaitable<bool> Client::start_session()
{
    begin_step("session");
    if (!co_await send("<iq type='set' id='session1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>"))
        co_return false;
    const auto reply = co_await next_stanza();
    if (!reply) co_return false;
    if (reply->name() != "iq" || reply->id() != "session1") co_return fail_here("protocol", "expected the session result");
    if (reply->type() != "result") co_return fail("session:refused", "session establishment refused");
    co_return true;
}

asio::awaitable<bool> Client::login(std::optional<std::uint32_t> source, const std::string& user,
                                    const std::string& password, ScramKeyCache& keys, std::uint32_t account)
{
    if (!co_await connect(source)) co_return false;
    if (config_.transport == Transport::DirectTls && !co_await handshake()) co_return false;

    begin_step("stream");
    auto features = co_await open_stream();
    if (!features) co_return false;
    if (config_.transport == Transport::StartTls) {
        if (!features->root().child("starttls", xmpp::ns::tls)) co_return fail("protocol:starttls", "no STARTTLS offered");
        if (!co_await starttls()) co_return false;
        begin_step("stream");
        features = co_await open_stream();
        if (!features) co_return false;
    }
    bool offered = false;
    for (const auto mechanism : features->root().child("mechanisms", xmpp::ns::sasl).children())
        offered = offered || mechanism.text() == config_.mechanism;
    if (!offered) co_return fail("protocol:mechanism", config_.mechanism + " is not offered");

    if (!co_await authenticate(user, password, keys, account)) co_return false;
    begin_step("stream");
    features = co_await open_stream();
    if (!features) co_return false;
    co_return co_await bind(*features);
}

asio::awaitable<bool> Client::tls_handshake(std::optional<std::uint32_t> source)
{
    // Not `if (!co_await connect(..)) co_return false; co_return co_await handshake();`: GCC 12 miscompiles
    // that body (the coroutine traps at its first resume).
    bool ok = co_await connect(source);
    if (ok) ok = co_await handshake();
    co_return ok;
}

//---------------------------------------------------------------------------------------------------------
// Idle and close

asio::awaitable<bool> Client::hold(asio::steady_timer& release, const StanzaHandler& on_stanza, std::string_view step)
{
    step_ = !step.empty() ? std::string(step) : on_stanza ? "message" : "hold";
    for (;;) {
        auto result = co_await (socket_.async_wait(asio::ip::tcp::socket::wait_read, nothrow) || release.async_wait(nothrow));
        if (result.index() == 1) co_return true;
        // The server spoke (or closed): a stanza, a stream error, a close, or something to read on.
        if (!take_input()) co_return false;
        deadline_ = std::chrono::steady_clock::now() + config_.step_timeout;
        if (!co_await flush()) co_return false;
        tokenizer_.feed(plain_);
        plain_.clear();
        for (;;) {
            const xml::Event event = tokenizer_.next();
            if (event.kind == xml::EventKind::NeedMore) break;
            if (event.kind == xml::EventKind::StreamClose) co_return fail_here("closed", "the server ended the stream");
            if (event.kind == xml::EventKind::Error) co_return fail_here("protocol", "bad XML from the server");
            auto stanza = xml::Stanza::parse(event, tokenizer_.header().scope());
            if (stanza && stanza->name() == "error" && stanza->ns() == xmpp::ns::streams) {
                const auto condition = stanza->root().first_child_element();
                co_return fail("stream-error:" + std::string(condition ? condition.name() : "none"),
                               "stream error during " + step_ + ": " + stanza->serialize());
            }
            if (stanza && on_stanza) on_stanza(*stanza);
        }
        if (eof_) co_return fail_here("closed", "the server closed the connection");
    }
}

asio::awaitable<void> Client::close()
{
    if (!socket_.is_open()) co_return;
    step_ = "close";
    deadline_ = std::chrono::steady_clock::now() + std::min(config_.step_timeout, close_wait);
    bool sent = co_await send("</stream:stream>");
    if (sent && tls_) {
        tls_->shutdown();
        sent = co_await flush();
    }
    // Wait for the server's end tag or its close; anything else in between is skipped.
    while (sent) {
        const Received r = co_await next_event();
        if (r.kind == xml::EventKind::NeedMore || r.kind == xml::EventKind::StreamClose) break;
    }
    asio::error_code ec;
    socket_.close(ec);
}

void Client::drop()
{
    if (!socket_.is_open()) return;
    asio::error_code ec;
    if (tls_) {
        tls_->shutdown();
        if (tls_->has_outgoing()) {
            const std::string bytes = tls_->take_outgoing();
            socket_.non_blocking(true, ec);
            socket_.write_some(asio::buffer(bytes), ec);  // a full socket buffer just loses the close_notify
        }
    }
    socket_.close(ec);
}

}  // namespace tern::loadgen
