#include "tls/hello.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <string>

using namespace tern::tls;

namespace {

std::string u16(std::size_t v)
{
    return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

std::string u24(std::size_t v)
{
    return {static_cast<char>(v >> 16), static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
}

std::string extension(std::uint16_t type, const std::string& data)
{
    return u16(type) + u16(data.size()) + data;
}

std::string sni(const std::string& name)
{
    const std::string entry = std::string(1, '\0') + u16(name.size()) + name;
    return extension(0, u16(entry.size()) + entry);
}

std::string ems()
{
    return extension(23, "");
}

std::string client_hello_body(const std::string& extensions, bool with_extensions = true)
{
    std::string body = "\x03\x03" + std::string(32, 'r');  // legacy_version, random
    body += std::string(1, 32) + std::string(32, 's');     // session id
    body += u16(4) + std::string("\x13\x01\xc0\x2b", 4);   // cipher suites
    body += std::string("\x01\x00", 2);                    // compression: null
    if (with_extensions)
        body += u16(extensions.size()) + extensions;
    return body;
}

std::string server_hello_body(const std::string& extensions)
{
    std::string body = "\x03\x03" + std::string(32, 'r');
    body += std::string(1, 0);                          // empty session id
    body += std::string("\xc0\x2b", 2) + std::string(1, 0);  // suite, compression
    return body + u16(extensions.size()) + extensions;
}

std::string handshake(std::uint8_t type, const std::string& body)
{
    return std::string(1, static_cast<char>(type)) + u24(body.size()) + body;
}

std::string records(const std::string& message, std::size_t fragment = 16384)
{
    std::string out;
    for (std::size_t pos = 0; pos < message.size(); pos += fragment) {
        const auto part = message.substr(pos, fragment);
        out += std::string("\x16\x03\x01", 3) + u16(part.size()) + part;
    }
    return out;
}

}  // namespace

TEST_SUITE("tls")
{
    TEST_CASE("hello scan reads the SNI host name of a ClientHello, lower-cased")
    {
        const auto bytes = records(handshake(1, client_hello_body(sni("Chat.Example.ORG") + ems())));
        const auto scan = scan_hello(bytes, HelloType::ClientHello);
        CHECK(scan.state == HelloScanState::Complete);
        CHECK(scan.server_name == "chat.example.org");
        CHECK(scan.extended_master_secret);
    }

    TEST_CASE("hello scan needs more bytes until the whole hello is buffered")
    {
        const auto bytes = records(handshake(1, client_hello_body(sni("example.org"))));
        for (std::size_t n = 0; n < bytes.size(); ++n)
            CHECK(scan_hello(bytes.substr(0, n), HelloType::ClientHello).state == HelloScanState::NeedMore);
        CHECK(scan_hello(bytes, HelloType::ClientHello).state == HelloScanState::Complete);
    }

    TEST_CASE("hello scan reassembles a hello split over several records")
    {
        const auto bytes = records(handshake(1, client_hello_body(sni("example.org"))), 7);
        const auto scan = scan_hello(bytes + "trailing bytes of later records", HelloType::ClientHello);
        CHECK(scan.state == HelloScanState::Complete);
        CHECK(scan.server_name == "example.org");
        CHECK_FALSE(scan.extended_master_secret);
    }

    TEST_CASE("hello scan accepts a hello without extensions or without SNI")
    {
        auto scan = scan_hello(records(handshake(1, client_hello_body("", false))), HelloType::ClientHello);
        CHECK(scan.state == HelloScanState::Complete);
        CHECK(scan.server_name.empty());
        scan = scan_hello(records(handshake(1, client_hello_body(ems()))), HelloType::ClientHello);
        CHECK(scan.state == HelloScanState::Complete);
        CHECK(scan.server_name.empty());
        CHECK(scan.extended_master_secret);
    }

    TEST_CASE("hello scan ignores a host name that is not printable ASCII")
    {
        const std::string names[] = {"exa mple.org", std::string("ex\0ample", 8), std::string(256, 'a')};
        for (const auto& name : names) {
            const auto scan = scan_hello(records(handshake(1, client_hello_body(sni(name)))), HelloType::ClientHello);
            CHECK(scan.state == HelloScanState::Complete);
            CHECK(scan.server_name.empty());
        }
    }

    TEST_CASE("hello scan reports extended master secret in a ServerHello")
    {
        auto scan = scan_hello(records(handshake(2, server_hello_body(ems()))), HelloType::ServerHello);
        CHECK(scan.state == HelloScanState::Complete);
        CHECK(scan.extended_master_secret);
        scan = scan_hello(records(handshake(2, server_hello_body(extension(65281, std::string(1, 0))))),
                          HelloType::ServerHello);
        CHECK(scan.state == HelloScanState::Complete);
        CHECK_FALSE(scan.extended_master_secret);
    }

    TEST_CASE("hello scan rejects what is not a TLS hello")
    {
        const auto hello = handshake(1, client_hello_body(sni("example.org")));
        auto invalid = [](const std::string& bytes, HelloType type = HelloType::ClientHello) {
            return scan_hello(bytes, type).state == HelloScanState::Invalid;
        };
        CHECK(invalid("GET / HTTP/1.1\r\n"));
        CHECK(invalid("<?xml version='1.0'?>"));
        CHECK(invalid(std::string("\x15\x03\x03\x00\x02\x02\x28", 7)));              // an alert record
        CHECK(invalid(std::string("\x16\x02\x00", 3) + u16(hello.size()) + hello));  // SSL 2 version
        CHECK(invalid(std::string("\x16\x03\x01\x00\x00", 5)));                      // empty record
        CHECK(invalid(std::string("\x16\x03\x01\x48\x01", 5)));                      // record over 16 KB
        CHECK(invalid(records(hello), HelloType::ServerHello));                      // wrong message
        CHECK(invalid(records(handshake(1, std::string(max_hello_bytes + 1, 'x')), 10).substr(0, 30)));  // too big
    }

    TEST_CASE("hello scan rejects malformed hello bodies")
    {
        auto invalid = [](const std::string& body) {
            return scan_hello(records(handshake(1, body)), HelloType::ClientHello).state == HelloScanState::Invalid;
        };
        const auto good = client_hello_body(sni("example.org"));
        CHECK_FALSE(invalid(good));
        CHECK(invalid(good.substr(0, 20)));                               // cut inside the random
        CHECK(invalid(good + "x"));                                       // bytes after the extensions
        CHECK(invalid(good.substr(0, good.size() - 1)));                  // extension cut short
        std::string long_session = good;
        long_session[34] = 33;                                            // session id over 32 bytes
        CHECK(invalid(long_session));
        std::string odd_suites = client_hello_body("");
        odd_suites[34 + 33 + 1] = 3;                                      // odd cipher suite length
        CHECK(invalid(odd_suites));
    }
}
