#include <doctest/doctest.h>

#include "base/ip_prefix.hpp"

using namespace tern::base;

TEST_SUITE("base")
{
    TEST_CASE("ip: IPv4, IPv6, and IPv4-mapped IPv6 read as IPv4")
    {
        CHECK(parse_ip("192.0.2.1")->to_string() == "192.0.2.1");
        CHECK_FALSE(parse_ip("192.0.2.1")->v6);
        CHECK(parse_ip("2001:DB8::1")->to_string() == "2001:db8::1");
        CHECK(parse_ip("::ffff:192.0.2.1") == parse_ip("192.0.2.1"));
        CHECK(parse_ip("::ffff:c000:201") == parse_ip("192.0.2.1"));
        CHECK(normalize_ip("::ffff:10.1.2.3") == "10.1.2.3");
        CHECK(normalize_ip("unknown") == "unknown");
        for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "[::1]", "::1%eth0", "example.org", "1.2.3.4/8"})
            CHECK_FALSE(parse_ip(bad));
    }

    TEST_CASE("ip: prefixes contain what they cover, of the same family")
    {
        const auto ten = parse_ip_prefix("10.0.0.0/8");
        REQUIRE(ten);
        CHECK(ten->contains(*parse_ip("10.255.1.2")));
        CHECK(ten->contains(*parse_ip("::ffff:10.0.0.1")));
        CHECK_FALSE(ten->contains(*parse_ip("11.0.0.1")));
        CHECK_FALSE(ten->contains(*parse_ip("::a00:1")));
        const auto doc = parse_ip_prefix("2001:db8::/32");
        REQUIRE(doc);
        CHECK(doc->contains(*parse_ip("2001:db8:ffff::1")));
        CHECK_FALSE(doc->contains(*parse_ip("2001:db9::1")));
        CHECK(parse_ip_prefix("0.0.0.0/0")->contains(*parse_ip("203.0.113.9")));
        CHECK(parse_ip_prefix("127.0.0.1")->length == 32);
        CHECK(parse_ip_prefix("::1")->contains(*parse_ip("::1")));
        CHECK(parse_ip_prefix("10.1.0.0/16")->to_string() == "10.1.0.0/16");
    }

    TEST_CASE("ip: malformed prefixes say why")
    {
        std::string error;
        CHECK_FALSE(parse_ip_prefix("10.0.0.1/8", &error));
        CHECK(error.find("10.0.0.0/8") != std::string::npos);
        CHECK_FALSE(parse_ip_prefix("10.0.0.0/33", &error));
        CHECK(error.find("at most 32") != std::string::npos);
        for (const char* bad : {"10.0.0.0/", "10.0.0.0/x", "/8", "example.org/8", "10.0.0.0/0008", "::/129"})
            CHECK_FALSE(parse_ip_prefix(bad));
    }

    TEST_CASE("ip: the key an address is counted under")
    {
        CHECK(address_key("192.0.2.1", 64) == "192.0.2.1");
        CHECK(address_key("::ffff:192.0.2.1", 64) == "192.0.2.1");
        CHECK(address_key("2001:db8:1:2:aaaa::1", 64) == "2001:db8:1:2::/64");
        CHECK(address_key("2001:db8:1:2:bbbb::2", 64) == address_key("2001:db8:1:2:aaaa::1", 64));
        CHECK(address_key("2001:db8:1:3::1", 64) != address_key("2001:db8:1:2::1", 64));
        CHECK(address_key("2001:db8:1:2::1", 128) == "2001:db8:1:2::1");
        CHECK(address_key("2001:db8:1:2::1", 48) == "2001:db8:1::/48");
        CHECK(address_key("unknown", 64) == "unknown");
    }
}
