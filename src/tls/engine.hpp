#pragma once

// One TLS connection driven over memory: the caller feeds received ciphertext in and sends what
// take_outgoing() returns. Nothing here touches a socket or the clock.
//
// Server loop: feed(bytes); handshake() until Done (WantRead: read more); then read() after every feed —
// bytes after the client's Finished may already be application data. After every call, send
// take_outgoing() if has_outgoing(): handshake records, alerts, tickets, close_notify. After Failed, send
// the outgoing bytes (usually an alert) and close.
#include "tls/context.hpp"
#include "tls/memory_io.hpp"

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct WOLFSSL;
struct WOLFSSL_SESSION;
struct WOLFSSL_X509_STORE_CTX;

namespace tern::tls {

enum class Status {
    Done,      // the handshake is complete / the data was written
    WantRead,  // everything fed so far is processed: feed more ciphertext
    Closed,    // the peer sent close_notify
    Failed,    // fatal: see last_error()
};

std::string_view to_string(Status status);

struct ServerOptions {
    bool direct_tls = false;  // XEP-0368 direct TLS: accept ALPN "xmpp-client"
};

// A client's resumable session (ticket or session ID and secrets), for a later connection to the same server.
class Session {
public:
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

private:
    Session(WOLFSSL_SESSION* session, std::optional<std::string> server_end_point)
        : session_(session), server_end_point_(std::move(server_end_point))
    {
    }
    WOLFSSL_SESSION* session_;
    // A resumed handshake carries no certificate: the binding of the one the session was made with.
    std::optional<std::string> server_end_point_;
    friend class Engine;
};

struct ClientOptions {
    std::string server_name{};        // SNI (and the name verified when the context verifies)
    std::vector<std::string> alpn{};  // protocols offered, most preferred first
    std::shared_ptr<const Session> resume{};  // offered for resumption
    bool extended_master_secret = true;       // false: do not offer it (RFC 7627), for tests of servers
};

class Engine {
public:
    static Engine server(std::shared_ptr<const Context> context, ServerOptions options = {});
    static Engine client(std::shared_ptr<const Context> context, const ClientOptions& options = {});

    Engine(Engine&& other) noexcept;
    Engine& operator=(Engine&& other) noexcept;
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;
    ~Engine();

    void feed(std::string_view ciphertext);
    bool has_outgoing() const { return !io_.out.empty(); }
    // Ciphertext to send; the engine keeps no buffer behind.
    std::string take_outgoing();

    // Done, WantRead or Failed. A client's first call produces the ClientHello.
    Status handshake();
    // Appends all plaintext decryptable from what was fed; WantRead, Closed or Failed. Completes the
    // handshake first if needed.
    Status read(std::string& plain);
    // Encrypts `plain` into the outgoing bytes: Done, or Failed. Before the handshake is complete it returns
    // Failed and sets last_error() but leaves the engine usable.
    Status write(std::string_view plain);
    // Queues close_notify (once). No-op before the handshake or after a failure.
    void shutdown();

    const std::string& last_error() const { return last_error_; }
    bool handshake_done() const { return state_ == State::Established || state_ == State::Closed; }

    // After the handshake. server_name(): on the server the SNI name the client sent (lower-case, empty
    // if none), on the client the name it sent.
    std::string_view server_name() const { return server_name_; }
    std::string_view alpn() const;              // negotiated protocol, empty if none
    std::string_view protocol_version() const;  // "TLSv1.3", "TLSv1.2"
    std::string_view cipher() const;
    bool is_tls13() const;
    bool resumed() const;
    // Client: the session to resume later; nullptr if there is none. Call read() after the handshake first:
    // TLS 1.3 tickets arrive after it.
    std::shared_ptr<const Session> session() const;

    // Channel binding data (RFC 5056) for "tls-exporter" (RFC 9266: TLS 1.3, or TLS 1.2 with extended
    // master secret), "tls-unique" (RFC 5929: TLS 1.2 with the extended master secret only, RFC 7627 §6.4) and
    // "tls-server-end-point" (RFC 5929). nullopt when the type is not defined on this connection. Whether the
    // extended master secret is in use is read from the ServerHello, what both sides agreed on.
    std::optional<std::string> channel_binding(std::string_view type) const;
    // The types channel_binding() answers here, preferred first (for SASL -PLUS and XEP-0440).
    std::vector<std::string> channel_binding_types() const;

    // Heap bytes reserved by the engine's own buffers (not wolfSSL's): 0 when idle.
    std::size_t buffer_capacity() const;

private:
    enum class Role : unsigned char { Server, Client };
    enum class State : unsigned char { AwaitingHello, Handshaking, Established, Closed, Failed };
    static constexpr std::size_t exporter_size = 32;

    Engine(std::shared_ptr<const Context> context, Role role);
    Status start_server();
    void scan_server_hello();
    bool create_ssl(const Context::Domain& domain);
    void on_established();
    Status fail(std::string message);
    Status fail_with(const char* operation, int result);
    std::optional<std::string> tls_unique() const;
    std::optional<std::string> end_point_binding() const;
    // Client: wolfSSL's verify callback, called for the server's leaf certificate in both wolfSSL builds
    // (WOLFSSL_ALWAYS_VERIFY_CB), where it is the one way to see the certificate without SESSION_CERTS.
    static int on_verify(int preverify_ok, WOLFSSL_X509_STORE_CTX* store);
    void attach_callbacks();

    std::shared_ptr<const Context> context_;
    const Context::Domain* domain_ = nullptr;
    WOLFSSL* ssl_ = nullptr;
    MemoryIo io_;
    // The server's first records (the client's received ones, the server's own sent ones) until the ServerHello
    // in them has been scanned: whether the extended master secret was negotiated is only written there.
    std::string hello_;
    std::string server_name_;
    std::string last_error_;
    std::optional<std::string> peer_end_point_;  // client: tls-server-end-point of the server's certificate
    std::shared_ptr<const Session> offered_;     // client: the session offered for resumption
    std::array<unsigned char, exporter_size> exporter_{};
    Role role_;
    State state_;
    bool direct_tls_ = false;
    bool extended_master_secret_ = false;  // TLS 1.2: the ServerHello accepted it (RFC 7627)
    bool has_exporter_ = false;
    bool close_sent_ = false;
    bool hello_scanned_ = false;  // the ServerHello has been looked at
};

}  // namespace tern::tls
