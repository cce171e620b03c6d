#pragma once

// One simulated XMPP client over Asio coroutines, built on the server's own layers: tls::Engine in the
// client role, xml::Tokenizer/Stanza, sasl::ScramClient. Every wait for the server is bounded by the
// step timeout; a failure is a value (kind for counting, detail for a sample line), never an exception.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "loadgen/options.hpp"
#include "loadgen/key_cache.hpp"
#include "sasl/scram_client.hpp"
#include "tls/context.hpp"
#include "tls/engine.hpp"
#include "xml/stanza.hpp"
#include "xml/tokenizer.hpp"

namespace tern::loadgen {

struct ClientConfig {
    asio::ip::tcp::endpoint server;
    Transport transport = Transport::StartTls;
    std::string domain;
    std::string mechanism;  // as sent in <auth mechanism='...'/>
    crypto::Hash hash = crypto::Hash::Sha1;
    bool channel_binding = false;  // -PLUS: bind to tls-exporter
    std::shared_ptr<const tls::Context> tls;
    std::chrono::milliseconds step_timeout{20000};
};

struct Failure {
    std::string kind;    // "timeout:sasl", "sasl:not-authorized", "stream-error:conflict", "connect", ...
    std::string detail;  // one line for a human
};

class Client {
public:
    Client(asio::any_io_executor executor, const ClientConfig& config);

    // Connects (from `source`, an IPv4 address in host order, when given), negotiates TLS, authenticates and
    // binds a server-generated resource (then opens the legacy session when the server asks for it; servers
    // that mark it optional or don't offer it are not asked). false on failure: see failure(). `keys` holds
    // the SCRAM keys of `account` (read and updated), `user` is its name.
    asio::awaitable<bool> login(std::optional<std::uint32_t> source, const std::string& user,
                                const std::string& password, ScramKeyCache& keys, std::uint32_t account);
    // Connects and completes a direct-TLS handshake, nothing more (the handshake scenario).
    asio::awaitable<bool> tls_handshake(std::optional<std::uint32_t> source);
    using StanzaHandler = std::function<void(const xml::Stanza&)>;
    // Holds the bound session until `release` expires or is cancelled, giving every stanza the server sends
    // to `on_stanza` (if set). false if the server ended the session first (see failure(), whose kind names
    // `step`, e.g. "closed:message").
    asio::awaitable<bool> hold(asio::steady_timer& release, const StanzaHandler& on_stanza = {},
                               std::string_view step = {});
    // Sends stanzas on the bound session, bounded by the step timeout. May run while hold() waits.
    asio::awaitable<bool> send_stanzas(std::string_view stanzas);
    // Ends the stream and TLS, waits (bounded) for the server to end its side, closes the socket.
    asio::awaitable<void> close();
    // Sends TLS close_notify (best effort, no wait) and closes the socket.
    void drop();

    const Failure& failure() const { return failure_; }
    const std::string& jid() const { return jid_; }

private:
    struct Received {
        xml::EventKind kind = xml::EventKind::NeedMore;  // NeedMore: failed (see failure_)
        std::optional<xml::Stanza> stanza;
    };

    asio::awaitable<bool> connect(std::optional<std::uint32_t> source);
    asio::awaitable<bool> handshake();
    asio::awaitable<std::optional<xml::Stanza>> open_stream();
    asio::awaitable<bool> starttls();
    asio::awaitable<bool> authenticate(const std::string& user, const std::string& password, ScramKeyCache& keys,
                                       std::uint32_t account);
    asio::awaitable<bool> bind(const xml::Stanza& features);
    asio::awaitable<bool> start_session();
    // false (failure_ set) unless `reply` is <expected/>; a <failure/> counts as "sasl:<condition>".
    bool sasl_reply_is(const std::optional<xml::Stanza>& reply, std::string_view expected, const std::string& user);
    std::optional<sasl::ScramClient> make_scram(const std::string& user, const std::string& password,
                                                std::optional<sasl::SaltedPassword> salted);

    // Waits for bytes until the step deadline; false on timeout, EOF or error (failure_ set).
    asio::awaitable<bool> read_more();
    // Reads whatever the socket has now into plain_ (through TLS). false on EOF or a TLS error.
    bool take_input();
    asio::awaitable<Received> next_event();
    asio::awaitable<std::optional<xml::Stanza>> next_stanza();
    asio::awaitable<bool> send(std::string_view plain);
    asio::awaitable<bool> write_raw(std::string bytes);
    // Writes out everything pending (TLS records, or out_ without TLS).
    asio::awaitable<bool> flush();

    void begin_step(std::string_view step);
    bool fail(std::string kind, std::string detail);
    bool fail_here(std::string_view what, std::string detail);  // kind "<what>:<step>"

    const ClientConfig& config_;
    asio::ip::tcp::socket socket_;
    asio::steady_timer timer_;
    std::optional<tls::Engine> tls_;
    xml::Tokenizer tokenizer_;
    std::string plain_;  // decrypted bytes not yet given to the tokenizer
    std::string out_;    // without TLS: bytes to write
    bool writing_ = false;
    std::string step_;
    std::chrono::steady_clock::time_point deadline_;
    Failure failure_;
    std::string jid_;
    bool eof_ = false;
};

}  // namespace tern::loadgen
