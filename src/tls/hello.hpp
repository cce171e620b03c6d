#pragma once

// Reads the first handshake message of a connection (ClientHello on the server, ServerHello on the client)
// from the TLS records buffered so far, without consuming them. The server needs the SNI name before it
// creates the connection object for the matching domain; both sides need to know whether the extended
// master secret (RFC 7627) was offered/accepted, which wolfSSL's API does not report (RFC 9266 allows
// tls-exporter on TLS 1.2 only with it).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tern::tls {

enum class HelloType : std::uint8_t { ClientHello = 1, ServerHello = 2 };

enum class HelloScanState { NeedMore, Complete, Invalid };

struct HelloScan {
    HelloScanState state = HelloScanState::NeedMore;
    std::string server_name;  // ClientHello host_name, lower-cased; empty when absent or not printable ASCII
    bool extended_master_secret = false;
};

// A hello is a few hundred bytes (about 1.8 KB with post-quantum key shares); anything larger is refused.
inline constexpr std::size_t max_hello_bytes = 16384;

HelloScan scan_hello(std::string_view records, HelloType expected);

}  // namespace tern::tls
