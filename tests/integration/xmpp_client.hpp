#pragma once

// A deliberately plain XMPP client for integration tests: a blocking loopback socket with timeouts, the
// project's own TLS engine (client role) and XML tokenizer, and helpers for the usual negotiation steps.
// Every wait is bounded; a timeout throws, so a hanging server fails the test instead of hanging it.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/crypto.hpp"
#include "tls/context.hpp"
#include "tls/engine.hpp"
#include "xml/stanza.hpp"
#include "xml/tokenizer.hpp"

namespace tern::test {

using namespace std::chrono_literals;

struct Received {
    xml::EventKind kind = xml::EventKind::NeedMore;  // NeedMore here means: the connection was closed
    std::string bytes;
    std::optional<xml::Stanza> stanza;

    bool closed() const { return kind == xml::EventKind::NeedMore; }
};

struct TlsOptions {
    std::string server_name = "localhost";
    std::vector<std::string> alpn;
    tls::Version max_version = tls::Version::Tls1_3;

    static TlsOptions version(tls::Version v)
    {
        TlsOptions o;
        o.max_version = v;
        return o;
    }
    static TlsOptions with_alpn(std::string protocol)
    {
        TlsOptions o;
        o.alpn = {std::move(protocol)};
        return o;
    }
};

class XmppClient {
public:
    // Connects to `host` (an IPv4 or IPv6 literal) on `port`.
    explicit XmppClient(std::uint16_t port, const std::string& host = "127.0.0.1");
    // Connects to 127.0.0.1 from `source` (any 127/8 address is local on Linux): to the server's per-address
    // limits, a different client.
    static std::unique_ptr<XmppClient> from_address(std::uint16_t port, const std::string& source);
    ~XmppClient();
    XmppClient(const XmppClient&) = delete;
    XmppClient& operator=(const XmppClient&) = delete;

    void send(std::string_view bytes);
    Received next(std::chrono::milliseconds timeout = 5s);
    // The next event must be a stanza (any top-level element); returns it parsed.
    xml::Stanza next_stanza(std::chrono::milliseconds timeout = 5s);

    // Sends a stream header to `to` and reads the server's header and features.
    xml::Stanza open_stream(std::string_view to = "localhost");
    // TLS handshake now: right after connecting on the direct TLS port, or after <proceed/>.
    void handshake(const TlsOptions& options = {});
    // <starttls/>, <proceed/>, handshake, new stream; returns the new features.
    xml::Stanza starttls(const TlsOptions& options = {});

    // A SCRAM exchange. Returns "success", or the <failure/> condition name. With a non-PLUS mechanism,
    // binding_type "y" sends the gs2 flag "y" (the client could bind but believes the server cannot).
    std::string scram(std::string_view mechanism, const std::string& user, const std::string& password,
                      const std::string& binding_type = {}, const std::string& binding_data_override = {});
    // Sends a SCRAM client-first message for `user` and returns the server-first message (decoded), then
    // aborts the exchange; returns "failure:<condition>" if the server refuses at once. A -PLUS mechanism
    // binds to `binding_type`.
    std::string scram_server_first(std::string_view mechanism, const std::string& user,
                                   const std::string& binding_type = "tls-server-end-point");
    std::string plain(const std::string& user, const std::string& password);
    // Binds (resource empty: server-generated) and returns the full JID, or the error condition name.
    std::string bind(const std::string& resource = {});
    // Connect-to-bound in one go: STARTTLS, SCRAM-SHA-256, restart, bind. Returns the full JID.
    std::string login(const std::string& user, const std::string& password, const std::string& resource = {});

    // Reads until the server closes the stream; returns the stream error condition ("" if the stream
    // ended without one). Fails the caller (throws) if the server does not close within the timeout.
    std::string expect_stream_error(std::chrono::milliseconds timeout = 5s);
    // True if the server closed the TCP connection within the timeout.
    bool wait_closed(std::chrono::milliseconds timeout = 5s);
    // Drops the TCP connection with a reset (SO_LINGER 0), without closing the stream or TLS and without
    // reading what is still buffered: a phone losing its network. The client is unusable afterwards.
    void reset_connection();

    // True if the server sent something or closed within `wait`; reads nothing.
    bool readable(std::chrono::milliseconds wait);
    // Starts a TLS handshake and stops after writing the ClientHello: a client that goes silent halfway.
    void send_client_hello(const TlsOptions& options = {});

    // The client's own end of the TCP connection, as the server sees it on loopback.
    std::uint16_t local_port() const;

    const tls::Engine* tls() const { return tls_ ? &*tls_ : nullptr; }
    std::optional<std::string> channel_binding(std::string_view type) const;
    const xml::StreamHeader& stream_header() const { return tokenizer_.header(); }

private:
    struct AdoptSocket {};
    XmppClient(AdoptSocket, int fd);
    void write_raw(std::string_view bytes);
    bool read_raw(std::chrono::milliseconds timeout);  // false on EOF; throws on timeout
    void flush_tls();
    // The next element (or event) from what has been read already, if it is complete.
    std::optional<Received> take_buffered();

    int fd_ = -1;
    std::optional<tls::Engine> tls_;
    xml::Tokenizer tokenizer_;
    std::string plain_;  // decrypted bytes not yet given to the tokenizer
    std::optional<Received> buffered_;  // taken from the tokenizer by readable(), not yet by next()
};

}  // namespace tern::test
