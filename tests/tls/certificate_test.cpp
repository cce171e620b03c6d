#include "support.hpp"

#include "tls/certificate.hpp"
#include "tls/wolf.hpp"

#include <wolfssl/wolfcrypt/hash.h>

#include <doctest/doctest.h>

#include <string>

using namespace tern::tls;
using namespace tern::tls::test;

namespace {

std::string sha(int bits, const std::string& data)
{
    unsigned char out[64];
    const auto* in = reinterpret_cast<const unsigned char*>(data.data());
    const auto size = static_cast<word32>(data.size());
    const int rc = bits == 256 ? wc_Sha256Hash(in, size, out)
                 : bits == 384 ? wc_Sha384Hash(in, size, out)
                               : wc_Sha512Hash(in, size, out);
    REQUIRE(rc == 0);
    return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(bits / 8));
}

std::string tlv(unsigned char tag, const std::string& contents)
{
    std::string out(1, static_cast<char>(tag));
    if (contents.size() < 0x80) {
        out += static_cast<char>(contents.size());
    } else {
        out += '\x82';
        out += static_cast<char>(contents.size() >> 8);
        out += static_cast<char>(contents.size() & 0xff);
    }
    return out + contents;
}

// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } with a stand-in TBS.
std::string fake_certificate(const std::string& oid, std::size_t tbs_size = 10)
{
    return tlv(0x30, tlv(0x30, std::string(tbs_size, 'x')) + tlv(0x30, tlv(0x06, oid) + std::string("\x05\x00", 2))
                         + tlv(0x03, std::string("\x00sig", 4)));
}

}  // namespace

TEST_SUITE("tls")
{
    TEST_CASE("server end point of an ECDSA-SHA256 certificate is the SHA-256 of its DER")
    {
        Certificates certs;
        const auto der = first_certificate_der(read_text(certs.main.certificate_path));
        REQUIRE(der);
        CHECK(static_cast<unsigned char>((*der)[0]) == 0x30);
        CHECK(server_end_point(*der) == sha(256, *der));
    }

    TEST_CASE("server end point follows the signature hash, with SHA-256 for MD5 and SHA-1 (RFC 5929)")
    {
        const std::string rsa = "\x2a\x86\x48\x86\xf7\x0d\x01\x01";
        const std::string ecdsa = "\x2a\x86\x48\xce\x3d\x04";
        const struct {
            std::string oid;
            int bits;
        } cases[] = {
            {rsa + '\x04', 256},           {rsa + '\x05', 256},           {rsa + '\x0b', 256},
            {rsa + '\x0c', 384},           {rsa + '\x0d', 512},           {ecdsa + '\x01', 256},
            {ecdsa + "\x03\x02", 256},     {ecdsa + "\x03\x03", 384},     {ecdsa + "\x03\x04", 512},
        };
        for (const auto& c : cases) {
            const auto cert = fake_certificate(c.oid, 200);  // long-form lengths too
            CHECK(server_end_point(cert) == sha(c.bits, cert));
        }
    }

    TEST_CASE("server end point is undefined for EdDSA, RSA-PSS and malformed certificates")
    {
        CHECK_FALSE(server_end_point(fake_certificate("\x2b\x65\x70")));                          // Ed25519
        CHECK_FALSE(server_end_point(fake_certificate("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a")));  // RSASSA-PSS
        const auto good = fake_certificate("\x2a\x86\x48\xce\x3d\x04\x03\x02");
        CHECK(server_end_point(good));
        CHECK_FALSE(server_end_point(good.substr(0, good.size() - 1)));
        CHECK_FALSE(server_end_point(good + "x"));
        CHECK_FALSE(server_end_point(""));
        CHECK_FALSE(server_end_point(std::string("\x30\x84\xff\xff\xff\xff", 6)));
    }

    TEST_CASE("first certificate of a PEM chain is its leaf")
    {
        Certificates certs;
        const auto main = read_text(certs.main.certificate_path);
        const auto other = read_text(certs.other.certificate_path);
        const auto chain = first_certificate_der(main + other);
        REQUIRE(chain);
        CHECK(chain == first_certificate_der(main));
        CHECK(chain != first_certificate_der(other));
        CHECK_FALSE(first_certificate_der("no certificate here"));
        CHECK_FALSE(first_certificate_der(read_text(certs.main.key_path)));
    }
}
