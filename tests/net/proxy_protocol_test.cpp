#include <doctest/doctest.h>

#include "net/proxy_protocol.hpp"

using namespace tern::net;
using Status = ProxyParse::Status;

namespace {

std::string v2(unsigned char command, unsigned char family, std::string addresses)
{
    std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
    h += static_cast<char>(0x20 | command);
    h += static_cast<char>(family);
    h += static_cast<char>(addresses.size() >> 8);
    h += static_cast<char>(addresses.size() & 0xff);
    return h + addresses;
}

}  // namespace

TEST_SUITE("net")
{
    TEST_CASE("proxy v1 TCP4 and TCP6 give the client's address and leave the stream after it")
    {
        const std::string input = "PROXY TCP4 203.0.113.7 192.0.2.1 40000 5222\r\n<stream:stream";
        const ProxyParse p = parse_proxy_header(input);
        REQUIRE(p.status == Status::Done);
        CHECK(p.header.has_address);
        CHECK(p.header.source_address == "203.0.113.7");
        CHECK(p.header.source_port == 40000);
        CHECK(input.substr(p.consumed) == "<stream:stream");

        const ProxyParse six = parse_proxy_header("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n");
        REQUIRE(six.status == Status::Done);
        CHECK(six.header.source_address == "2001:db8::1");
    }

    TEST_CASE("proxy v1 UNKNOWN keeps the socket's address")
    {
        const ProxyParse p = parse_proxy_header("PROXY UNKNOWN\r\n");
        REQUIRE(p.status == Status::Done);
        CHECK_FALSE(p.header.has_address);
    }

    TEST_CASE("proxy v1 needs more bytes until the line ends, at every split")
    {
        const std::string input = "PROXY TCP4 198.51.100.9 192.0.2.1 1234 5222\r\n";
        for (std::size_t i = 0; i < input.size(); ++i) CHECK(parse_proxy_header(input.substr(0, i)).status == Status::NeedMore);
        CHECK(parse_proxy_header(input).status == Status::Done);
    }

    TEST_CASE("proxy v1 rejects malformed lines")
    {
        for (const std::string bad : {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
                                      "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "PROXY TCP4 ::1 ::1 1 2\r\n",
                                      "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
                                      "<stream:stream>", "GET / HTTP/1.1\r\n"}) {
            CAPTURE(bad);
            CHECK(parse_proxy_header(bad).status == Status::Invalid);
        }
        CHECK(parse_proxy_header("PROXY " + std::string(200, 'x')).status == Status::Invalid);
    }

    TEST_CASE("proxy v2 PROXY over IPv4 and IPv6, LOCAL, and TLVs")
    {
        const std::string v4 = v2(1, 0x11, std::string("\xcb\x00\x71\x07\xc0\x00\x02\x01\x9c\x40\x14\x66", 12));
        ProxyParse p = parse_proxy_header(v4 + "rest");
        REQUIRE(p.status == Status::Done);
        CHECK(p.header.source_address == "203.0.113.7");
        CHECK(p.header.source_port == 40000);
        CHECK(p.consumed == v4.size());

        std::string six(36, '\0');
        six[0] = '\x20';
        six[1] = '\x01';
        six[2] = '\x0d';
        six[3] = '\xb8';
        six[15] = '\x05';
        six[32] = '\x01';
        six[33] = '\x02';
        p = parse_proxy_header(v2(1, 0x21, six));
        REQUIRE(p.status == Status::Done);
        CHECK(p.header.source_address == "2001:db8::5");
        CHECK(p.header.source_port == 258);

        p = parse_proxy_header(v2(0, 0x00, ""));
        REQUIRE(p.status == Status::Done);
        CHECK_FALSE(p.header.has_address);

        p = parse_proxy_header(v2(1, 0x11, std::string("\x0a\x00\x00\x01\x0a\x00\x00\x02\x00\x01\x00\x02", 12) + "TLVTLV"));
        REQUIRE(p.status == Status::Done);
        CHECK(p.header.source_address == "10.0.0.1");
        CHECK(p.consumed == 16 + 18);
    }

    TEST_CASE("proxy v2 rejects bad versions, commands, short blocks and oversized headers")
    {
        std::string bad_version = v2(1, 0x11, std::string(12, '\0'));
        bad_version[12] = '\x11';
        CHECK(parse_proxy_header(bad_version).status == Status::Invalid);
        std::string bad_command = v2(1, 0x11, std::string(12, '\0'));
        bad_command[12] = '\x22';
        CHECK(parse_proxy_header(bad_command).status == Status::Invalid);
        CHECK(parse_proxy_header(v2(1, 0x11, std::string(4, '\0'))).status == Status::Invalid);
        CHECK(parse_proxy_header(v2(1, 0x11, std::string(1000, '\0'))).status == Status::Invalid);
        CHECK(parse_proxy_header(v2(1, 0x11, std::string(12, '\0')).substr(0, 20)).status == Status::NeedMore);
    }

    TEST_CASE("proxy: the first byte tells a PROXY header from an XMPP stream or a TLS record")
    {
        CHECK(starts_like_proxy_header("P"));
        CHECK(starts_like_proxy_header("PROXY TCP4 "));
        CHECK(starts_like_proxy_header(std::string_view("\r\n\r\n\0\r", 6)));
        CHECK_FALSE(starts_like_proxy_header(""));
        CHECK_FALSE(starts_like_proxy_header("<stream:stream"));
        CHECK_FALSE(starts_like_proxy_header("\xef\xbb\xbf<"));
        CHECK_FALSE(starts_like_proxy_header("\x16\x03\x01"));
        CHECK_FALSE(starts_like_proxy_header("PRX"));
    }
}
