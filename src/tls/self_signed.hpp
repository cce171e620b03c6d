#pragma once

#include "base/expected.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tern::tls {

// Writes a self-signed certificate for `domains` and its private key, both PEM: ECDSA P-256 key, SHA-256
// signature, CN = the first domain, one subjectAltName dNSName per domain, valid from now_unix - 1 hour to
// now_unix + 365 days, random 128-bit serial. The key file is written with mode 0600.
expected<void, std::string> generate_self_signed(const std::string& cert_path, const std::string& key_path,
                                                 const std::vector<std::string>& domains, std::int64_t now_unix);

}  // namespace tern::tls
