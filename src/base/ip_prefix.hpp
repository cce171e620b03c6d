#pragma once

// IP addresses as values, for limits and access lists: parsing an address or a CIDR prefix
// ("10.0.0.0/8", "2001:db8::/32"), whether a prefix contains an address, and the key an address is
// counted under (IPv4 as itself, IPv6 by its first N bits). An IPv4-mapped IPv6 address
// (::ffff:192.0.2.1) is always read as the IPv4 address it carries, whichever way it arrived. Pure.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::base {

struct IpAddress {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4

    // "192.0.2.1", "2001:db8::1"
    std::string to_string() const;
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// An IPv4 or IPv6 literal (no brackets, no zone); IPv4-mapped IPv6 becomes IPv4.
std::optional<IpAddress> parse_ip(std::string_view text);

// The textual form limits and logs use: parse_ip(text)->to_string(), or `text` unchanged if not an IP.
std::string normalize_ip(std::string_view text);

struct IpPrefix {
    IpAddress address;  // host bits are zero
    unsigned length = 0;

    bool contains(const IpAddress& ip) const;
    std::string to_string() const;  // "10.0.0.0/8"
    friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Host bits must be zero, so a
// typo such as "10.0.0.1/8" is caught; `error` says what is wrong.
std::optional<IpPrefix> parse_ip_prefix(std::string_view text, std::string* error = nullptr);

// The key an address is counted under: IPv4 addresses as they are, IPv6 addresses by their first
// `v6_prefix_length` bits ("2001:db8:1:2::/64"); text that is no IP address as it is.
std::string address_key(std::string_view address, unsigned v6_prefix_length);

}  // namespace tern::base
