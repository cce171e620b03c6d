#pragma once

// Credential lookup that looks the same for unknown users: they get a stable fake salt (an HMAC of realm and
// username keyed by ServerContext::unknown_user_secret, so repeated attempts and restarts see the same salt),
// the configured iteration count, and random keys that no proof or password can match.
#include "crypto/crypto.hpp"
#include "sasl/mechanism.hpp"

#include <string_view>

namespace tern::sasl {

struct Credentials {
    crypto::ScramKeys keys;
    bool known = false;
};

// Salt length shown to unknown users.
inline constexpr std::size_t fake_salt_size = 16;

Credentials find_credentials(const ServerContext& ctx, std::string_view username, crypto::Hash hash);

}  // namespace tern::sasl
