#pragma once

// TLS configuration shared by many connections: one wolfSSL context per hosted domain on the server (the
// domain is chosen from the client's SNI), one context on the client. Immutable once created and held by
// shared_ptr, so a reload can swap in a new Context while existing connections keep the one they started on.
#include "base/expected.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct WOLFSSL_CTX;

namespace tern::tls {

struct CertificateFiles {
    std::string certificate_path;  // PEM: the domain's certificate first, then any intermediates
    std::string key_path;          // PEM private key
};

struct ServerCertificates {
    std::string default_domain;  // used when the client sends no SNI or an unknown name; must be in `domains`
    std::map<std::string, CertificateFiles> domains;  // domain names are matched without regard to case
};

enum class Version { Tls1_2, Tls1_3 };

// wolfCrypt caches precomputed ECC points per thread (FP_ECC), and only the thread that built the cache can
// free it: every thread that signed or verified (handshakes, Context's key checks) calls this before it ends.
void release_thread_caches();

// For tests and tools (load generator, admin checks), never for accepting connections.
struct ClientContextOptions {
    std::string ca_file{};                // PEM trust anchors; empty: the server's certificate is not verified
    Version max_version = Version::Tls1_3;
};

class Context {
public:
    // Loads every domain's certificate chain and key (TLS 1.2+, AEAD suites, X25519/P-256/P-384, session
    // tickets), and proves each key with a test handshake. The error names the file and what failed.
    static expected<std::shared_ptr<const Context>, std::string> create_server(
        const ServerCertificates& certificates);
    static expected<std::shared_ptr<const Context>, std::string> create_client(
        const ClientContextOptions& options = {});

    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    bool is_server() const { return server_; }
    // Server: the hosted domains, lower-cased, the default first.
    std::vector<std::string> domains() const;

private:
    struct Domain {
        std::string name;
        WOLFSSL_CTX* ctx = nullptr;
        std::optional<std::string> server_end_point;  // RFC 5929 binding of our certificate, if defined
    };

    Context() = default;
    // Server: the domain whose certificate answers `server_name` (lower-case), else the default domain.
    const Domain& select(std::string_view server_name) const;

    std::vector<Domain> domains_;  // server: default domain first; client: one entry with an empty name
    bool server_ = false;
    bool verify_peer_ = false;

    friend class Engine;
};

}  // namespace tern::tls
