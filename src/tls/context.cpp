#include "tls/context.hpp"

#include "tls/certificate.hpp"
#include "tls/engine.hpp"
#include "tls/memory_io.hpp"
#include "tls/wolf.hpp"

#include <wolfssl/wolfcrypt/ecc.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string.h>

namespace tern::tls {

void release_thread_caches()
{
#ifdef FP_ECC
    wc_ecc_fp_free();
#endif
}

namespace {

// TLS 1.3 suites, then ECDHE with AEAD for TLS 1.2. Debian's wolfSSL also has RC4, NULL and anonymous suites
// compiled in (FACTS.md §3), so the list must be explicit.
constexpr const char* cipher_list =
    "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

constexpr std::array<int, 3> groups{WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_SECP384R1};

struct CtxFree {
    void operator()(WOLFSSL_CTX* ctx) const { wolfSSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<WOLFSSL_CTX, CtxFree>;

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
    return out;
}

expected<std::string, std::string> read_file(const std::string& path, const char* what)
{
    std::ifstream file(path, std::ios::binary);
    if (!file)
        return make_unexpected(std::string("tls: cannot read ") + what + " " + path + ": " + std::strerror(errno));
    std::string data{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    if (file.bad())
        return make_unexpected(std::string("tls: cannot read ") + what + " " + path + ": " + std::strerror(errno));
    return data;
}

expected<CtxPtr, std::string> new_context(WOLFSSL_METHOD* method, bool tls12_only = false)
{
    CtxPtr ctx(method ? wolfSSL_CTX_new(method) : nullptr);
    if (!ctx)
        return make_unexpected(std::string("tls: cannot create a wolfSSL context"));
    if (const int rc = wolfSSL_CTX_SetMinVersion(ctx.get(), WOLFSSL_TLSV1_2); rc != WOLFSSL_SUCCESS)
        return make_unexpected("tls: cannot require TLS 1.2: " + detail::error_text(rc));
    if (wolfSSL_CTX_set_cipher_list(ctx.get(), cipher_list) != WOLFSSL_SUCCESS)
        return make_unexpected(std::string("tls: cannot set the cipher list"));
    // TLS 1.3 key share preference; wolfSSL refuses it on a TLS 1.2-only context.
    auto group_list = groups;
    if (!tls12_only)
        if (const int rc = wolfSSL_CTX_set_groups(ctx.get(), group_list.data(), static_cast<int>(group_list.size()));
            rc != WOLFSSL_SUCCESS)
            return make_unexpected("tls: cannot set the key exchange groups: " + detail::error_text(rc));
    for (int group : groups)
        if (const int rc = wolfSSL_CTX_UseSupportedCurve(ctx.get(), static_cast<word16>(group)); rc != WOLFSSL_SUCCESS)
            return make_unexpected("tls: cannot set the supported groups: " + detail::error_text(rc));
    install_memory_io(ctx.get());
    return ctx;
}

struct LoadedDomain {
    CtxPtr ctx;
    std::optional<std::string> server_end_point;
};

expected<LoadedDomain, std::string> load_domain(const std::string& domain, const CertificateFiles& files)
{
    auto ctx = new_context(wolfTLS_server_method());
    if (!ctx)
        return make_unexpected(ctx.error());
    const auto& cert_path = files.certificate_path;
    const auto& key_path = files.key_path;

    auto chain = read_file(cert_path, "certificate");
    if (!chain)
        return make_unexpected(chain.error());
    const auto leaf = first_certificate_der(*chain);
    if (!leaf)
        return make_unexpected("tls: no PEM certificate in " + cert_path);
    if (const int rc = wolfSSL_CTX_use_certificate_chain_buffer(
            ctx->get(), reinterpret_cast<const unsigned char*>(chain->data()), static_cast<long>(chain->size()));
        rc != WOLFSSL_SUCCESS)
        return make_unexpected("tls: cannot load certificate " + cert_path + ": " + detail::error_text(rc));

    auto key = read_file(key_path, "private key");
    if (!key)
        return make_unexpected(key.error());
    const int key_rc =
        wolfSSL_CTX_use_PrivateKey_buffer(ctx->get(), reinterpret_cast<const unsigned char*>(key->data()),
                                          static_cast<long>(key->size()), WOLFSSL_FILETYPE_PEM);
    explicit_bzero(key->data(), key->size());
    if (key_rc != WOLFSSL_SUCCESS)
        return make_unexpected("tls: cannot load private key " + key_path + ": " + detail::error_text(key_rc));
    if (wolfSSL_CTX_check_private_key(ctx->get()) != WOLFSSL_SUCCESS)
        return make_unexpected("tls: private key " + key_path + " does not match certificate " + cert_path);

    // Lets wolfSSL acknowledge the SNI name; another name still gets this certificate rather than an alert.
    if (wolfSSL_CTX_UseSNI(ctx->get(), WOLFSSL_SNI_HOST_NAME, domain.data(), static_cast<unsigned short>(domain.size()))
        != WOLFSSL_SUCCESS)
        return make_unexpected("tls: cannot set the server name " + domain);
    wolfSSL_CTX_SNI_SetOptions(ctx->get(), WOLFSSL_SNI_HOST_NAME, WOLFSSL_SNI_CONTINUE_ON_MISMATCH);
    return LoadedDomain{std::move(*ctx), server_end_point(*leaf)};
}

// wolfSSL 5.5.4's check_private_key accepts an ECDSA key that does not belong to the certificate (measured),
// so every domain also proves its key in one in-memory TLS 1.3 handshake: the server signs with the key and
// the client checks that signature against the certificate. About a millisecond per domain, at load time only.
std::optional<std::string> self_test_error(const std::shared_ptr<const Context>& server,
                                           const std::shared_ptr<const Context>& client, const std::string& domain)
{
    auto c = Engine::client(client, {.server_name = domain});
    auto s = Engine::server(server);
    Status client_status = Status::WantRead;
    Status server_status = Status::WantRead;
    for (int round = 0; round < 4; ++round) {
        if (client_status == Status::WantRead)
            client_status = c.handshake();
        if (c.has_outgoing())
            s.feed(c.take_outgoing());
        if (server_status == Status::WantRead)
            server_status = s.handshake();
        if (s.has_outgoing())
            c.feed(s.take_outgoing());
    }
    if (client_status == Status::Done && server_status == Status::Done)
        return std::nullopt;
    if (!c.last_error().empty())
        return c.last_error();
    return s.last_error().empty() ? std::string("the handshake did not complete") : s.last_error();
}

}  // namespace

Context::~Context()
{
    for (auto& domain : domains_)
        wolfSSL_CTX_free(domain.ctx);
}

expected<std::shared_ptr<const Context>, std::string> Context::create_server(const ServerCertificates& certificates)
{
    detail::ensure_initialized();
    std::map<std::string, const CertificateFiles*> by_name;
    for (const auto& [name, files] : certificates.domains) {
        if (name.empty() || name.size() > 255)
            return make_unexpected("tls: invalid domain name '" + name + "'");
        if (!by_name.emplace(lower(name), &files).second)
            return make_unexpected("tls: domain " + name + " is listed twice");
    }
    const auto default_name = lower(certificates.default_domain);
    if (!by_name.count(default_name))
        return make_unexpected("tls: the default domain '" + certificates.default_domain + "' has no certificate");

    std::shared_ptr<Context> context(new Context());
    context->server_ = true;
    auto add = [&](const std::string& name) -> expected<void, std::string> {
        auto loaded = load_domain(name, *by_name.at(name));
        if (!loaded)
            return make_unexpected(loaded.error());
        context->domains_.push_back({name, loaded->ctx.release(), std::move(loaded->server_end_point)});
        return {};
    };
    if (auto added = add(default_name); !added)
        return make_unexpected(added.error());
    for (const auto& entry : by_name)
        if (entry.first != default_name)
            if (auto added = add(entry.first); !added)
                return make_unexpected(added.error());

    auto client = create_client();
    if (!client)
        return make_unexpected(client.error());
    for (const auto& domain : context->domains_)
        if (auto error = self_test_error(context, *client, domain.name)) {
            const auto& files = *by_name.at(domain.name);
            return make_unexpected("tls: private key " + files.key_path + " does not match certificate "
                                   + files.certificate_path + " (test handshake: " + *error + ")");
        }
    return context;
}

expected<std::shared_ptr<const Context>, std::string> Context::create_client(const ClientContextOptions& options)
{
    detail::ensure_initialized();
    const bool tls12_only = options.max_version == Version::Tls1_2;
    auto ctx = new_context(tls12_only ? wolfTLSv1_2_client_method() : wolfTLS_client_method(), tls12_only);
    if (!ctx)
        return make_unexpected(ctx.error());
    if (const int rc = wolfSSL_CTX_UseSessionTicket(ctx->get()); rc != WOLFSSL_SUCCESS)
        return make_unexpected("tls: cannot enable session tickets: " + detail::error_text(rc));
    const bool verify = !options.ca_file.empty();
    if (verify) {
        if (const int rc = wolfSSL_CTX_load_verify_locations(ctx->get(), options.ca_file.c_str(), nullptr);
            rc != WOLFSSL_SUCCESS)
            return make_unexpected("tls: cannot load CA file " + options.ca_file + ": " + detail::error_text(rc));
    }
    wolfSSL_CTX_set_verify(ctx->get(), verify ? WOLFSSL_VERIFY_PEER : WOLFSSL_VERIFY_NONE, nullptr);

    std::shared_ptr<Context> context(new Context());
    context->verify_peer_ = verify;
    context->domains_.push_back({std::string(), ctx->release(), std::nullopt});
    return context;
}

std::vector<std::string> Context::domains() const
{
    std::vector<std::string> names;
    if (server_)
        for (const auto& domain : domains_)
            names.push_back(domain.name);
    return names;
}

const Context::Domain& Context::select(std::string_view server_name) const
{
    for (const auto& domain : domains_)
        if (domain.name == server_name)
            return domain;
    return domains_.front();
}

}  // namespace tern::tls
