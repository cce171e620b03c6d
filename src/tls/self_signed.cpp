#include "tls/self_signed.hpp"

#include "tls/wolf.hpp"

#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace tern::tls {

namespace {

constexpr std::int64_t not_before_slack = 3600;
constexpr std::int64_t validity_seconds = 365LL * 24 * 3600;
constexpr std::size_t serial_bytes = 16;
constexpr std::size_t max_domain = 253;
constexpr unsigned char der_sequence = 0x30;
constexpr unsigned char der_dns_name = 0x82;  // [2] IMPLICIT IA5String (GeneralName dNSName)
constexpr unsigned char der_utc_time = 0x17;
constexpr unsigned char der_generalized_time = 0x18;

std::string failure(const char* what, int code)
{
    return std::string("tls: ") + what + ": " + wc_GetErrorString(code) + " (" + std::to_string(code) + ")";
}

void append_der_length(std::string& out, std::size_t length)
{
    if (length < 0x80) {
        out += static_cast<char>(length);
    } else if (length <= 0xff) {
        out += '\x81';
        out += static_cast<char>(length);
    } else {
        out += '\x82';
        out += static_cast<char>(length >> 8);
        out += static_cast<char>(length & 0xff);
    }
}

// subjectAltName's GeneralNames: SEQUENCE OF dNSName.
std::string alt_names_der(const std::vector<std::string>& domains)
{
    std::string names;
    for (const auto& domain : domains) {
        names += static_cast<char>(der_dns_name);
        append_der_length(names, domain.size());
        names += domain;
    }
    std::string der(1, static_cast<char>(der_sequence));
    append_der_length(der, names.size());
    return der + names;
}

// An X.509 Time as a whole DER element: UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5).
std::optional<std::string> time_der(std::int64_t unix_time)
{
    const auto t = static_cast<std::time_t>(unix_time);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr)
        return std::nullopt;
    const int year = tm.tm_year + 1900;
    char text[32];
    const bool utc = year >= 1950 && year < 2050;
    const int n = utc ? std::snprintf(text, sizeof text, "%02d%02d%02d%02d%02d%02dZ", year % 100, tm.tm_mon + 1,
                                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
                      : std::snprintf(text, sizeof text, "%04d%02d%02d%02d%02d%02dZ", year, tm.tm_mon + 1,
                                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n != (utc ? 13 : 15) || year < 0 || year > 9999)
        return std::nullopt;
    std::string der(1, static_cast<char>(utc ? der_utc_time : der_generalized_time));
    der += static_cast<char>(n);
    return der + text;
}

bool valid_domain(std::string_view domain)
{
    if (domain.empty() || domain.size() > max_domain)
        return false;
    for (char c : domain)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
              || c == '*' || c == '_'))
            return false;
    return true;
}

expected<void, std::string> write_file(const std::string& path, std::string_view data, mode_t mode)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return make_unexpected("tls: cannot create " + path + ": " + std::strerror(errno));
    // O_CREAT leaves the mode of an existing file alone.
    if (::fchmod(fd, mode) != 0) {
        const int saved = errno;
        ::close(fd);
        return make_unexpected("tls: cannot set the mode of " + path + ": " + std::strerror(saved));
    }
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int saved = errno;
            ::close(fd);
            return make_unexpected("tls: cannot write " + path + ": " + std::strerror(saved));
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    if (::close(fd) != 0)
        return make_unexpected("tls: cannot write " + path + ": " + std::strerror(errno));
    return {};
}

#if defined(WOLFSSL_CERT_GEN) && defined(WOLFSSL_DER_TO_PEM) && defined(HAVE_ECC)

struct Rng {
    WC_RNG rng{};
    int init = wc_InitRng(&rng);
    ~Rng()
    {
        if (init == 0)
            wc_FreeRng(&rng);
    }
};

struct EccKey {
    ecc_key key{};
    int init = wc_ecc_init(&key);
    ~EccKey()
    {
        if (init == 0)
            wc_ecc_free(&key);
    }
};

// Clears key material before the memory is released.
struct Wiped {
    std::string bytes;
    ~Wiped() { explicit_bzero(bytes.data(), bytes.size()); }
};

expected<std::string, std::string> to_pem(std::string_view der, int type)
{
    std::string pem(der.size() * 2 + 128, '\0');
    const int size = wc_DerToPem(reinterpret_cast<const byte*>(der.data()), static_cast<word32>(der.size()),
                                 reinterpret_cast<byte*>(pem.data()), static_cast<word32>(pem.size()), type);
    if (size <= 0)
        return make_unexpected(failure("cannot encode PEM", size));
    pem.resize(static_cast<std::size_t>(size));
    return pem;
}

#endif

}  // namespace

expected<void, std::string> generate_self_signed(const std::string& cert_path, const std::string& key_path,
                                                 const std::vector<std::string>& domains, std::int64_t now_unix)
{
    if (domains.empty())
        return make_unexpected(std::string("tls: a certificate needs at least one domain"));
    for (const auto& domain : domains)
        if (!valid_domain(domain))
            return make_unexpected("tls: not a domain name for a certificate: '" + domain + "'");
    if (domains.front().size() >= CTC_NAME_SIZE)
        return make_unexpected("tls: domain too long for a certificate common name: " + domains.front());
    const auto alt_names = alt_names_der(domains);
    const auto not_before = time_der(now_unix - not_before_slack);
    const auto not_after = time_der(now_unix + validity_seconds);
    if (!not_before || !not_after)
        return make_unexpected(std::string("tls: certificate validity out of range"));

#if defined(WOLFSSL_CERT_GEN) && defined(WOLFSSL_DER_TO_PEM) && defined(HAVE_ECC)
    detail::ensure_initialized();
    Rng rng;
    if (rng.init != 0)
        return make_unexpected(failure("cannot initialise the RNG", rng.init));
    EccKey key;
    if (key.init != 0)
        return make_unexpected(failure("cannot initialise an ECC key", key.init));
    if (const int rc = wc_ecc_make_key_ex(&rng.rng, 32, &key.key, ECC_SECP256R1); rc != 0)
        return make_unexpected(failure("cannot generate a P-256 key", rc));

    auto cert = std::make_unique<Cert>();  // about 20 KB: not for the stack
    if (const int rc = wc_InitCert(cert.get()); rc != 0)
        return make_unexpected(failure("cannot initialise the certificate", rc));
    cert->sigType = CTC_SHA256wECDSA;
    cert->isCA = 0;
    std::memcpy(cert->subject.commonName, domains.front().c_str(), domains.front().size() + 1);
    if (const int rc = wc_RNG_GenerateBlock(&rng.rng, cert->serial, serial_bytes); rc != 0)
        return make_unexpected(failure("cannot generate a serial number", rc));
    cert->serial[0] = static_cast<byte>((cert->serial[0] & 0x7f) | 0x40);  // positive, no leading zero
    cert->serialSz = serial_bytes;
    std::memcpy(cert->beforeDate, not_before->data(), not_before->size());
    cert->beforeDateSz = static_cast<int>(not_before->size());
    std::memcpy(cert->afterDate, not_after->data(), not_after->size());
    cert->afterDateSz = static_cast<int>(not_after->size());
    if (alt_names.size() > sizeof cert->altNames)
        return make_unexpected(std::string("tls: too many domains for one certificate"));
    std::memcpy(cert->altNames, alt_names.data(), alt_names.size());
    cert->altNamesSz = static_cast<int>(alt_names.size());
#ifdef WOLFSSL_CERT_EXT
    if (const int rc = wc_SetSubjectKeyIdFromPublicKey_ex(cert.get(), ECC_TYPE, &key.key); rc != 0)
        return make_unexpected(failure("cannot set the subject key identifier", rc));
    if (const int rc = wc_SetKeyUsage(cert.get(), "digitalSignature"); rc != 0)
        return make_unexpected(failure("cannot set the key usage", rc));
    if (const int rc = wc_SetExtKeyUsage(cert.get(), "serverAuth,clientAuth"); rc != 0)
        return make_unexpected(failure("cannot set the extended key usage", rc));
#endif

    std::string der(4096 + alt_names.size(), '\0');
    auto* der_bytes = reinterpret_cast<byte*>(der.data());
    const auto der_capacity = static_cast<word32>(der.size());
    if (const int rc = wc_MakeCert_ex(cert.get(), der_bytes, der_capacity, ECC_TYPE, &key.key, &rng.rng); rc < 0)
        return make_unexpected(failure("cannot build the certificate", rc));
    const int signed_size =
        wc_SignCert_ex(cert->bodySz, cert->sigType, der_bytes, der_capacity, ECC_TYPE, &key.key, &rng.rng);
    if (signed_size < 0)
        return make_unexpected(failure("cannot sign the certificate", signed_size));
    der.resize(static_cast<std::size_t>(signed_size));

    Wiped key_der{std::string(256, '\0')};
    const int key_size = wc_EccKeyToDer(&key.key, reinterpret_cast<byte*>(key_der.bytes.data()),
                                        static_cast<word32>(key_der.bytes.size()));
    if (key_size <= 0)
        return make_unexpected(failure("cannot encode the private key", key_size));
    key_der.bytes.resize(static_cast<std::size_t>(key_size));

    auto cert_pem = to_pem(der, CERT_TYPE);
    if (!cert_pem)
        return make_unexpected(cert_pem.error());
    auto key_pem_result = to_pem(key_der.bytes, ECC_PRIVATEKEY_TYPE);
    if (!key_pem_result)
        return make_unexpected(key_pem_result.error());
    Wiped key_pem{std::move(*key_pem_result)};

    if (auto written = write_file(key_path, key_pem.bytes, 0600); !written)
        return written;
    return write_file(cert_path, *cert_pem, 0644);
#else
    (void)cert_path;
    (void)key_path;
    return make_unexpected(std::string("tls: this wolfSSL build cannot generate certificates (no WOLFSSL_CERT_GEN)"));
#endif
}

}  // namespace tern::tls
