#pragma once

// Certificate facts the channel bindings need, computed from DER without wolfSSL's X509 API (which the
// lean wolfSSL build lacks).
#include <optional>
#include <string>
#include <string_view>

namespace tern::tls {

// The DER of the first certificate in a PEM text (the leaf of a chain file); nullopt when there is none.
std::optional<std::string> first_certificate_der(std::string_view pem);

// RFC 5929 §4.1 tls-server-end-point: the certificate hashed with its signature's hash algorithm, SHA-256
// when that is MD5 or SHA-1. nullopt for signature algorithms with no single hash (EdDSA, RSA-PSS) or that
// are unknown, for which the binding is undefined.
std::optional<std::string> server_end_point(std::string_view certificate_der);

}  // namespace tern::tls
