#include "net/proxy_protocol.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <vector>

namespace tern::net {

namespace {

constexpr std::string_view v2_signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t v1_max = 107;
constexpr std::size_t v2_max = 536;

ProxyParse invalid(std::string error)
{
    ProxyParse p;
    p.status = ProxyParse::Status::Invalid;
    p.error = std::move(error);
    return p;
}

std::vector<std::string_view> split_spaces(std::string_view line)
{
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= line.size()) {
        const auto space = line.find(' ', start);
        const auto end = space == std::string_view::npos ? line.size() : space;
        parts.push_back(line.substr(start, end - start));
        if (space == std::string_view::npos) break;
        start = space + 1;
    }
    return parts;
}

bool valid_address(std::string_view text, int family)
{
    char buf[64];
    if (text.empty() || text.size() >= sizeof buf) return false;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    unsigned char out[16];
    return inet_pton(family, buf, out) == 1;
}

bool parse_port(std::string_view text, std::uint16_t& port)
{
    if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
    unsigned value = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
    if (r.ec != std::errc{} || r.ptr != text.data() + text.size() || value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}

ProxyParse parse_v1(std::string_view data)
{
    const auto end = data.find("\r\n");
    if (end == std::string_view::npos) {
        if (data.size() >= v1_max) return invalid("PROXY v1 line too long");
        return {};
    }
    if (end + 2 > v1_max) return invalid("PROXY v1 line too long");
    const auto parts = split_spaces(data.substr(0, end));
    ProxyParse p;
    p.status = ProxyParse::Status::Done;
    p.consumed = end + 2;
    if (parts.size() >= 2 && parts[1] == "UNKNOWN") return p;
    if (parts.size() != 6) return invalid("PROXY v1 line needs 6 fields");
    const int family = parts[1] == "TCP4" ? AF_INET : parts[1] == "TCP6" ? AF_INET6 : -1;
    if (family < 0) return invalid("PROXY v1 protocol must be TCP4, TCP6 or UNKNOWN");
    std::uint16_t dest_port = 0;
    if (!valid_address(parts[2], family) || !valid_address(parts[3], family)) return invalid("PROXY v1 bad address");
    if (!parse_port(parts[4], p.header.source_port) || !parse_port(parts[5], dest_port))
        return invalid("PROXY v1 bad port");
    p.header.has_address = true;
    p.header.source_address = std::string(parts[2]);
    return p;
}

ProxyParse parse_v2(std::string_view data)
{
    if (data.size() < 16) return {};
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(data[i]); };
    const unsigned version = byte(12) >> 4;
    const unsigned command = byte(12) & 0x0f;
    if (version != 2) return invalid("PROXY v2 bad version");
    if (command > 1) return invalid("PROXY v2 bad command");
    const std::size_t length = (std::size_t{byte(14)} << 8) | byte(15);
    if (16 + length > v2_max) return invalid("PROXY v2 header too long");
    if (data.size() < 16 + length) return {};

    ProxyParse p;
    p.status = ProxyParse::Status::Done;
    p.consumed = 16 + length;
    if (command == 0) return p;  // LOCAL: a health check from the balancer itself
    const unsigned family = byte(13) >> 4;
    const unsigned transport = byte(13) & 0x0f;
    if (transport != 1) return p;  // not TCP: keep the socket's address
    char text[INET6_ADDRSTRLEN];
    if (family == 1) {
        if (length < 12) return invalid("PROXY v2 IPv4 block too short");
        if (!inet_ntop(AF_INET, data.data() + 16, text, sizeof text)) return invalid("PROXY v2 bad IPv4 address");
        p.header.source_port = static_cast<std::uint16_t>((byte(24) << 8) | byte(25));
    } else if (family == 2) {
        if (length < 36) return invalid("PROXY v2 IPv6 block too short");
        if (!inet_ntop(AF_INET6, data.data() + 16, text, sizeof text)) return invalid("PROXY v2 bad IPv6 address");
        p.header.source_port = static_cast<std::uint16_t>((byte(48) << 8) | byte(49));
    } else {
        return p;  // AF_UNSPEC or AF_UNIX
    }
    p.header.has_address = true;
    p.header.source_address = text;
    return p;
}

}  // namespace

ProxyParse parse_proxy_header(std::string_view data)
{
    const std::size_t n = std::min(data.size(), v2_signature.size());
    if (data.substr(0, n) == v2_signature.substr(0, n)) {
        if (data.size() < v2_signature.size()) return {};
        return parse_v2(data);
    }
    constexpr std::string_view v1_prefix = "PROXY ";
    const std::size_t m = std::min(data.size(), v1_prefix.size());
    if (data.substr(0, m) == v1_prefix.substr(0, m)) {
        if (data.size() < v1_prefix.size()) return {};
        return parse_v1(data);
    }
    return invalid("expected a PROXY protocol header");
}

bool starts_like_proxy_header(std::string_view data)
{
    constexpr std::string_view v1_prefix = "PROXY";
    const auto starts = [&](std::string_view prefix) {
        const std::size_t n = std::min(data.size(), prefix.size());
        return n > 0 && data.substr(0, n) == prefix.substr(0, n);
    };
    return starts(v2_signature) || starts(v1_prefix);
}

}  // namespace tern::net
