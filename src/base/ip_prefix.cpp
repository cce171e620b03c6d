#include "base/ip_prefix.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace tern::base {

namespace {

constexpr std::array<std::uint8_t, 12> v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

IpAddress masked(IpAddress ip, unsigned length)
{
    const unsigned bits = ip.v6 ? 128 : 32;
    for (unsigned bit = length; bit < bits; ++bit) ip.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    return ip;
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text)
{
    if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
    const std::string copy(text);
    IpAddress ip;
    if (::inet_pton(AF_INET, copy.c_str(), ip.bytes.data()) == 1) return ip;
    if (::inet_pton(AF_INET6, copy.c_str(), ip.bytes.data()) != 1) return std::nullopt;
    if (std::memcmp(ip.bytes.data(), v4_mapped_prefix.data(), v4_mapped_prefix.size()) == 0) {
        std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
        std::memset(ip.bytes.data() + 4, 0, 12);
        return ip;
    }
    ip.v6 = true;
    return ip;
}

std::string IpAddress::to_string() const
{
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
    return text;
}

std::string normalize_ip(std::string_view text)
{
    const auto ip = parse_ip(text);
    return ip ? ip->to_string() : std::string(text);
}

bool IpPrefix::contains(const IpAddress& ip) const
{
    return ip.v6 == address.v6 && masked(ip, length) == address;
}

std::string IpPrefix::to_string() const
{
    return address.to_string() + '/' + std::to_string(length);
}

std::optional<IpPrefix> parse_ip_prefix(std::string_view text, std::string* error)
{
    const auto fail = [error](std::string why) -> std::optional<IpPrefix> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    const auto slash = text.find('/');
    const auto ip = parse_ip(text.substr(0, slash));
    if (!ip) return fail("expected an IP address or a prefix such as \"10.0.0.0/8\" or \"2001:db8::/32\"");
    const unsigned bits = ip->v6 ? 128 : 32;
    unsigned length = bits;
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        if (digits.empty() || digits.size() > 3) return fail("expected a prefix length after '/'");
        length = 0;
        for (char c : digits) {
            if (c < '0' || c > '9') return fail("expected a prefix length after '/'");
            length = length * 10 + static_cast<unsigned>(c - '0');
        }
        if (length > bits) return fail("a prefix length is at most " + std::to_string(bits) + " for this address");
    }
    if (masked(*ip, length) != *ip)
        return fail("the address has bits set beyond the prefix length (did you mean " +
                    IpPrefix{masked(*ip, length), length}.to_string() + "?)");
    return IpPrefix{*ip, length};
}

std::string address_key(std::string_view address, unsigned v6_prefix_length)
{
    const auto ip = parse_ip(address);
    if (!ip) return std::string(address);
    if (!ip->v6) return ip->to_string();
    if (v6_prefix_length >= 128) return ip->to_string();
    return IpPrefix{masked(*ip, v6_prefix_length), v6_prefix_length}.to_string();
}

}  // namespace tern::base
