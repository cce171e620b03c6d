#pragma once

// Parsers for the SCRAM client messages (RFC 5802 §7). They check syntax only; what the fields mean for
// this connection (channel binding, nonce, proof) is scram.cpp's job. Errors are short reasons, RFC 5802
// server-error values where one fits; every parse error is a malformed-request.
#include "base/expected.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace tern::sasl::scram {

enum class CbFlag {
    NotSupported,    // "n": the client does not support channel binding
    ServerLacksIt,   // "y": the client supports it but thinks the server does not
    Used,            // "p=<type>"
};

struct ClientFirst {
    CbFlag flag = CbFlag::NotSupported;
    std::string cb_type;     // with CbFlag::Used
    std::string authzid;     // unescaped; empty when absent
    std::string gs2_header;  // verbatim, e.g. "n,,": part of the expected c= value
    std::string bare;        // client-first-message-bare, verbatim: part of AuthMessage
    std::string username;    // unescaped (=2C, =3D), not yet SASLprep'd
    std::string nonce;
};

struct ClientFinal {
    std::string channel_binding;  // c=, decoded
    std::string nonce;
    std::string without_proof;    // verbatim: part of AuthMessage
    std::string proof;            // p=, decoded
};

tern::expected<ClientFirst, std::string_view> parse_client_first(std::string_view message);
tern::expected<ClientFinal, std::string_view> parse_client_final(std::string_view message);

// saslname (RFC 5802 §5.1): non-empty, "=" only as "=2C" (",") or "=3D" ("=").
std::optional<std::string> decode_saslname(std::string_view text);

}  // namespace tern::sasl::scram
