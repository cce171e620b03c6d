#include "tls/certificate.hpp"

#include "tls/wolf.hpp"

#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/hash.h>

#include <array>
#include <cstdint>

namespace tern::tls {

namespace {

constexpr unsigned char der_sequence = 0x30;
constexpr unsigned char der_oid = 0x06;

// Returns the contents of the DER element of type `tag` at the front of `der` and advances past it.
std::optional<std::string_view> take_element(std::string_view& der, unsigned char tag)
{
    if (der.size() < 2 || static_cast<unsigned char>(der[0]) != tag)
        return std::nullopt;
    std::size_t length = static_cast<unsigned char>(der[1]);
    std::size_t header = 2;
    if (length & 0x80) {
        const std::size_t width = length & 0x7f;
        if (width == 0 || width > 4 || der.size() < 2 + width)
            return std::nullopt;
        length = 0;
        for (std::size_t i = 0; i < width; ++i)
            length = (length << 8) | static_cast<unsigned char>(der[2 + i]);
        header += width;
    }
    if (der.size() - header < length)
        return std::nullopt;
    const auto contents = der.substr(header, length);
    der.remove_prefix(header + length);
    return contents;
}

enum class Digest { Sha256, Sha384, Sha512 };

struct SignatureOid {
    std::string_view oid;  // DER contents of the OBJECT IDENTIFIER
    Digest digest;         // already mapped by RFC 5929: MD5 and SHA-1 become SHA-256
};

using namespace std::string_view_literals;
constexpr std::array signature_oids{
    SignatureOid{"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x04"sv, Digest::Sha256},  // md5WithRSAEncryption
    SignatureOid{"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05"sv, Digest::Sha256},  // sha1WithRSAEncryption
    SignatureOid{"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b"sv, Digest::Sha256},  // sha256WithRSAEncryption
    SignatureOid{"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c"sv, Digest::Sha384},  // sha384WithRSAEncryption
    SignatureOid{"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d"sv, Digest::Sha512},  // sha512WithRSAEncryption
    SignatureOid{"\x2a\x86\x48\xce\x3d\x04\x01"sv, Digest::Sha256},          // ecdsa-with-SHA1
    SignatureOid{"\x2a\x86\x48\xce\x3d\x04\x03\x02"sv, Digest::Sha256},      // ecdsa-with-SHA256
    SignatureOid{"\x2a\x86\x48\xce\x3d\x04\x03\x03"sv, Digest::Sha384},      // ecdsa-with-SHA384
    SignatureOid{"\x2a\x86\x48\xce\x3d\x04\x03\x04"sv, Digest::Sha512},      // ecdsa-with-SHA512
};

std::optional<std::string> hash(Digest digest, std::string_view data)
{
    std::array<unsigned char, WC_SHA512_DIGEST_SIZE> out{};
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    const auto size = static_cast<word32>(data.size());
    int rc = -1;
    std::size_t length = 0;
    switch (digest) {
    case Digest::Sha256:
        rc = wc_Sha256Hash(bytes, size, out.data());
        length = WC_SHA256_DIGEST_SIZE;
        break;
    case Digest::Sha384:
        rc = wc_Sha384Hash(bytes, size, out.data());
        length = WC_SHA384_DIGEST_SIZE;
        break;
    case Digest::Sha512:
        rc = wc_Sha512Hash(bytes, size, out.data());
        length = WC_SHA512_DIGEST_SIZE;
        break;
    }
    if (rc != 0)
        return std::nullopt;
    return std::string(reinterpret_cast<const char*>(out.data()), length);
}

}  // namespace

std::optional<std::string> first_certificate_der(std::string_view pem)
{
    std::string der(pem.size(), '\0');  // DER is shorter than its base64
    const int size = wc_CertPemToDer(reinterpret_cast<const unsigned char*>(pem.data()),
                                     static_cast<int>(pem.size()), reinterpret_cast<unsigned char*>(der.data()),
                                     static_cast<int>(der.size()), CERT_TYPE);
    if (size <= 0)
        return std::nullopt;
    der.resize(static_cast<std::size_t>(size));
    return der;
}

std::optional<std::string> server_end_point(std::string_view certificate_der)
{
    std::string_view rest = certificate_der;
    auto certificate = take_element(rest, der_sequence);
    if (!certificate || !rest.empty())
        return std::nullopt;
    if (!take_element(*certificate, der_sequence))  // tbsCertificate
        return std::nullopt;
    auto algorithm = take_element(*certificate, der_sequence);
    if (!algorithm)
        return std::nullopt;
    const auto oid = take_element(*algorithm, der_oid);
    if (!oid)
        return std::nullopt;
    for (const auto& known : signature_oids)
        if (known.oid == *oid)
            return hash(known.digest, certificate_der);
    return std::nullopt;
}

}  // namespace tern::tls
