#pragma once

// The PROXY protocol header (HAProxy, versions 1 and 2) that a load balancer puts in front of the
// client's bytes, so that limits and logs see the client's address rather than the balancer's. Pure.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tern::net {

struct ProxyHeader {
    bool has_address = false;  // false for LOCAL (v2) and UNKNOWN (v1): keep the socket's own address
    std::string source_address;
    std::uint16_t source_port = 0;
};

struct ProxyParse {
    enum class Status { NeedMore, Done, Invalid };
    Status status = Status::NeedMore;
    std::size_t consumed = 0;  // with Done: the header's length; the bytes after it are the client's
    ProxyHeader header;
    std::string error;
};

// A v1 header is at most 107 bytes and a v2 header at most 16 + 65535; this parser accepts v2 headers
// of up to 536 bytes (enough for TCP over IPv4/IPv6 with TLVs) and calls anything longer Invalid.
ProxyParse parse_proxy_header(std::string_view data);

// Whether the first bytes of a connection (one or more) may be the start of a PROXY header: "PROXY"
// (v1) or the v2 signature. No XMPP stream (which starts with '<' or a BOM) or TLS record (0x16) does.
bool starts_like_proxy_header(std::string_view data);

}  // namespace tern::net
