#include "tls/engine.hpp"

#include "tls/certificate.hpp"
#include "tls/hello.hpp"
#include "tls/wolf.hpp"

#include <algorithm>
#include <new>
#include <utility>

namespace tern::tls {

namespace {

constexpr std::string_view exporter_label = "EXPORTER-Channel-Binding";  // RFC 9266 §2
constexpr std::size_t read_chunk = 16384;                               // one TLS record of plaintext
constexpr std::size_t max_write_chunk = std::size_t{1} << 20;
constexpr std::string_view direct_tls_alpn = "xmpp-client";             // XEP-0368

constexpr std::string_view cb_exporter = "tls-exporter";
constexpr std::string_view cb_unique = "tls-unique";
constexpr std::string_view cb_server_end_point = "tls-server-end-point";

std::size_t heap_capacity(const std::string& s)
{
    return s.capacity() > std::string().capacity() ? s.capacity() : 0;
}

// wolfSSL wants a mutable, comma-separated protocol list.
int use_alpn(WOLFSSL* ssl, std::string list)
{
    return wolfSSL_UseALPN(ssl, list.data(), static_cast<unsigned int>(list.size()),
                           WOLFSSL_ALPN_CONTINUE_ON_MISMATCH);
}

}  // namespace

std::string_view to_string(Status status)
{
    switch (status) {
    case Status::Done: return "done";
    case Status::WantRead: return "want-read";
    case Status::Closed: return "closed";
    case Status::Failed: return "failed";
    }
    return "unknown";
}

Engine::Engine(std::shared_ptr<const Context> context, Role role)
    : context_(std::move(context)),
      role_(role),
      state_(role == Role::Server ? State::AwaitingHello : State::Handshaking)
{
}

Engine Engine::server(std::shared_ptr<const Context> context, ServerOptions options)
{
    Engine engine(std::move(context), Role::Server);
    engine.direct_tls_ = options.direct_tls;
    if (!engine.context_ || !engine.context_->is_server())
        engine.fail("tls: a server connection needs a server context");
    return engine;
}

Engine Engine::client(std::shared_ptr<const Context> context, const ClientOptions& options)
{
    Engine engine(std::move(context), Role::Client);
    if (!engine.context_ || engine.context_->is_server()) {
        engine.fail("tls: a client connection needs a client context");
        return engine;
    }
    if (!engine.create_ssl(engine.context_->domains_.front()))
        return engine;
    WOLFSSL* ssl = engine.ssl_;
    engine.server_name_ = options.server_name;
    const auto& name = engine.server_name_;
    if (!name.empty()) {
        if (name.size() > 255
            || wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, name.data(), static_cast<unsigned short>(name.size()))
                   != WOLFSSL_SUCCESS) {
            engine.fail("tls: cannot send the server name " + name);
            return engine;
        }
        if (engine.context_->verify_peer_ && wolfSSL_check_domain_name(ssl, name.c_str()) != WOLFSSL_SUCCESS) {
            engine.fail("tls: cannot verify the server name " + name);
            return engine;
        }
    }
    if (!options.extended_master_secret && wolfSSL_DisableExtendedMasterSecret(ssl) != WOLFSSL_SUCCESS) {
        engine.fail("tls: cannot switch off the extended master secret");
        return engine;
    }
    if (!options.alpn.empty()) {
        std::string list;
        for (const auto& protocol : options.alpn)
            list += (list.empty() ? "" : ",") + protocol;
        if (use_alpn(ssl, std::move(list)) != WOLFSSL_SUCCESS) {
            engine.fail("tls: cannot offer ALPN protocols");
            return engine;
        }
    }
    if (options.resume) {
        if (wolfSSL_set_session(ssl, options.resume->session_) != WOLFSSL_SUCCESS) {
            engine.fail("tls: cannot offer the session for resumption");
            return engine;
        }
        engine.offered_ = options.resume;
    }
    return engine;
}

Engine::Engine(Engine&& other) noexcept
    : context_(std::move(other.context_)),
      domain_(other.domain_),
      ssl_(std::exchange(other.ssl_, nullptr)),
      io_(std::move(other.io_)),
      hello_(std::move(other.hello_)),
      server_name_(std::move(other.server_name_)),
      last_error_(std::move(other.last_error_)),
      peer_end_point_(std::move(other.peer_end_point_)),
      offered_(std::move(other.offered_)),
      exporter_(other.exporter_),
      role_(other.role_),
      state_(std::exchange(other.state_, State::Failed)),
      direct_tls_(other.direct_tls_),
      extended_master_secret_(other.extended_master_secret_),
      has_exporter_(other.has_exporter_),
      close_sent_(other.close_sent_),
      hello_scanned_(other.hello_scanned_)
{
    if (ssl_)
        attach_callbacks();
}

Engine& Engine::operator=(Engine&& other) noexcept
{
    if (this != &other) {
        this->~Engine();
        new (this) Engine(std::move(other));
    }
    return *this;
}

Engine::~Engine()
{
    if (ssl_)
        wolfSSL_free(ssl_);
}

void Engine::feed(std::string_view ciphertext)
{
    if (state_ == State::Failed || ciphertext.empty())
        return;
    io_.in.append(ciphertext);
    if (role_ == Role::Client && state_ == State::Handshaking && !hello_scanned_)
        hello_.append(ciphertext);
}

std::string Engine::take_outgoing()
{
    return std::exchange(io_.out, std::string());
}

bool Engine::create_ssl(const Context::Domain& domain)
{
    ssl_ = wolfSSL_new(domain.ctx);
    if (!ssl_) {
        fail("tls: cannot create a connection (out of memory)");
        return false;
    }
    domain_ = &domain;
    if (role_ == Role::Client)
        wolfSSL_set_verify(ssl_, context_->verify_peer_ ? WOLFSSL_VERIFY_PEER : WOLFSSL_VERIFY_NONE, on_verify);
    attach_callbacks();
    // The exporter needs the handshake secrets; on_established() takes it and frees them.
    wolfSSL_KeepArrays(ssl_);
    return true;
}

void Engine::attach_callbacks()
{
    attach_memory_io(ssl_, &io_);
    if (role_ == Role::Client)
        wolfSSL_SetCertCbCtx(ssl_, this);
}

int Engine::on_verify(int preverify_ok, WOLFSSL_X509_STORE_CTX* store)
{
    auto* engine = static_cast<Engine*>(store->userCtx);
    if (engine && store->error_depth == 0 && store->totalCerts > 0 && store->certs && store->certs[0].buffer) {
        const auto& leaf = store->certs[0];
        engine->peer_end_point_ =
            tls::server_end_point(std::string_view(reinterpret_cast<const char*>(leaf.buffer), leaf.length));
    }
    // Without verification wolfSSL still calls back (preverify 1); the verdict stays wolfSSL's.
    return engine && !engine->context_->verify_peer_ ? 1 : preverify_ok;
}

Status Engine::start_server()
{
    auto scan = scan_hello(std::string_view(io_.in).substr(io_.in_offset), HelloType::ClientHello);
    if (scan.state == HelloScanState::NeedMore)
        return Status::WantRead;
    if (scan.state == HelloScanState::Invalid)
        return fail("tls: the client did not start with a valid TLS ClientHello");
    server_name_ = std::move(scan.server_name);
    if (!create_ssl(context_->select(server_name_)))
        return Status::Failed;
    if (direct_tls_ && use_alpn(ssl_, std::string(direct_tls_alpn)) != WOLFSSL_SUCCESS)
        return fail("tls: cannot accept ALPN " + std::string(direct_tls_alpn));
    state_ = State::Handshaking;
    return Status::Done;
}

void Engine::scan_server_hello()
{
    if (hello_scanned_ || hello_.empty())
        return;
    const auto scan = scan_hello(hello_, HelloType::ServerHello);
    if (scan.state == HelloScanState::NeedMore)
        return;
    // Not a ServerHello (an alert, garbage): wolfSSL reports the real error.
    extended_master_secret_ = scan.state == HelloScanState::Complete && scan.extended_master_secret;
    hello_scanned_ = true;
    std::string().swap(hello_);
}

Status Engine::handshake()
{
    switch (state_) {
    case State::Established:
    case State::Closed:
        return Status::Done;
    case State::Failed:
        return Status::Failed;
    case State::AwaitingHello:
        if (const auto status = start_server(); state_ != State::Handshaking)
            return status;
        break;
    case State::Handshaking:
        break;
    }
    scan_server_hello();
    const std::size_t sent_before = io_.out.size();
    const int rc = role_ == Role::Server ? wolfSSL_accept(ssl_) : wolfSSL_connect(ssl_);
    io_.compact_input();
    if (role_ == Role::Server && !hello_scanned_) {
        // What the server agreed to is in its own ServerHello: the first record it writes.
        hello_.append(io_.out, sent_before);
        scan_server_hello();
    }
    if (rc == WOLFSSL_SUCCESS) {
        on_established();
        return Status::Done;
    }
    const int error = wolfSSL_get_error(ssl_, rc);
    if (error == WOLFSSL_ERROR_WANT_READ)
        return Status::WantRead;
    return fail_with("handshake failed", error);
}

void Engine::on_established()
{
    state_ = State::Established;
    hello_scanned_ = true;
    std::string().swap(hello_);
    if (is_tls13() || extended_master_secret_)
        has_exporter_ = wolfSSL_export_keying_material(ssl_, exporter_.data(), exporter_.size(), exporter_label.data(),
                                                       exporter_label.size(), nullptr, 0, 0)
                        == WOLFSSL_SUCCESS;
    wolfSSL_FreeArrays(ssl_);
}

Status Engine::read(std::string& plain)
{
    if (state_ == State::Failed)
        return Status::Failed;
    if (state_ == State::Closed)
        return Status::Closed;
    if (state_ != State::Established)
        if (const auto status = handshake(); status != Status::Done)
            return status;
    char buffer[read_chunk];
    for (;;) {
        const int n = wolfSSL_read(ssl_, buffer, static_cast<int>(sizeof buffer));
        if (n > 0) {
            plain.append(buffer, static_cast<std::size_t>(n));
            continue;
        }
        const int error = wolfSSL_get_error(ssl_, n);
        io_.compact_input();
        if (error == WOLFSSL_ERROR_WANT_READ)
            return Status::WantRead;
        if (error == WOLFSSL_ERROR_ZERO_RETURN) {
            state_ = State::Closed;
            return Status::Closed;
        }
        return fail_with("read failed", error);
    }
}

Status Engine::write(std::string_view plain)
{
    if (state_ != State::Established && state_ != State::Closed) {
        if (state_ != State::Failed)
            last_error_ = "tls: write before the handshake completed";
        return Status::Failed;
    }
    while (!plain.empty()) {
        const auto chunk = std::min(plain.size(), max_write_chunk);
        const int n = wolfSSL_write(ssl_, plain.data(), static_cast<int>(chunk));
        if (n <= 0)
            return fail_with("write failed", wolfSSL_get_error(ssl_, n));
        plain.remove_prefix(static_cast<std::size_t>(n));
    }
    return Status::Done;
}

void Engine::shutdown()
{
    if (!ssl_ || !handshake_done() || close_sent_)
        return;
    close_sent_ = true;
    wolfSSL_shutdown(ssl_);
}

Status Engine::fail(std::string message)
{
    state_ = State::Failed;
    last_error_ = std::move(message);
    std::string().swap(hello_);
    std::string().swap(io_.in);
    io_.in_offset = 0;
    // Keeps the outgoing bytes (an alert, usually) for the caller to send; the connection is over.
    if (ssl_) {
        wolfSSL_free(ssl_);
        ssl_ = nullptr;
    }
    return Status::Failed;
}

Status Engine::fail_with(const char* operation, int error)
{
    return fail(std::string("tls: ") + operation + ": " + detail::error_text(error));
}

std::string_view Engine::alpn() const
{
    if (!ssl_ || !handshake_done())
        return {};
    char* name = nullptr;
    unsigned short size = 0;
    if (wolfSSL_ALPN_GetProtocol(ssl_, &name, &size) != WOLFSSL_SUCCESS || name == nullptr)
        return {};
    return {name, size};
}

std::string_view Engine::protocol_version() const
{
    if (!ssl_ || !handshake_done())
        return {};
    const char* version = wolfSSL_get_version(ssl_);
    return version ? version : "";
}

std::string_view Engine::cipher() const
{
    if (!ssl_ || !handshake_done())
        return {};
    // wolfSSL's own names ("TLS13-AES128-GCM-SHA256"): wolfSSL_get_cipher gives IANA names in some builds.
    const char* name = wolfSSL_get_cipher_name(ssl_);
    return name ? name : "";
}

bool Engine::is_tls13() const
{
    return ssl_ && wolfSSL_GetVersion(ssl_) == WOLFSSL_TLSV1_3;
}

bool Engine::resumed() const
{
    return ssl_ && handshake_done() && wolfSSL_session_reused(ssl_) == 1;
}

Session::~Session()
{
    wolfSSL_SESSION_free(session_);
}

std::shared_ptr<const Session> Engine::session() const
{
    if (role_ != Role::Client || !ssl_ || !handshake_done())
        return nullptr;
    // A counted reference to the connection's own session object (SESSION_dup needs HAVE_EXT_CACHE, which
    // the lean wolfSSL leaves out); tickets that arrive later land in it too.
    WOLFSSL_SESSION* reference = wolfSSL_get1_session(ssl_);
    if (!reference)
        return nullptr;
    return std::shared_ptr<const Session>(new Session(reference, end_point_binding()));
}

std::optional<std::string> Engine::tls_unique() const
{
#ifdef WOLFSSL_HAVE_TLS_UNIQUE
    // Undefined on TLS 1.3 (RFC 9266 §3); on TLS 1.2 without the extended master secret two connections can
    // share their Finished messages (the triple handshake attack, RFC 7627 §1), so it binds nothing there.
    if (is_tls13() || !extended_master_secret_)
        return std::nullopt;
    // RFC 5929 §3.1: the first Finished of the handshake: the client's in a full handshake, the server's in an
    // abbreviated (resumed) one.
    const bool ours = (role_ == Role::Client) != resumed();
    char finished[64];
    const std::size_t size = ours ? wolfSSL_get_finished(ssl_, finished, sizeof finished)
                                  : wolfSSL_get_peer_finished(ssl_, finished, sizeof finished);
    if (size == 0 || size > sizeof finished)
        return std::nullopt;
    return std::string(finished, size);
#else
    return std::nullopt;
#endif
}

std::optional<std::string> Engine::end_point_binding() const
{
    if (role_ == Role::Server)
        return domain_ ? domain_->server_end_point : std::nullopt;
    if (resumed() && offered_)
        return offered_->server_end_point_;
    return peer_end_point_;
}

std::optional<std::string> Engine::channel_binding(std::string_view type) const
{
    if (!ssl_ || !handshake_done())
        return std::nullopt;
    if (type == cb_exporter) {
        if (!has_exporter_)
            return std::nullopt;
        return std::string(reinterpret_cast<const char*>(exporter_.data()), exporter_.size());
    }
    if (type == cb_unique)
        return tls_unique();
    if (type == cb_server_end_point)
        return end_point_binding();
    return std::nullopt;
}

std::vector<std::string> Engine::channel_binding_types() const
{
    std::vector<std::string> types;
    for (const auto type : {cb_exporter, cb_unique, cb_server_end_point})
        if (channel_binding(type))
            types.emplace_back(type);
    return types;
}

std::size_t Engine::buffer_capacity() const
{
    return heap_capacity(io_.in) + heap_capacity(io_.out) + heap_capacity(hello_);
}

}  // namespace tern::tls
