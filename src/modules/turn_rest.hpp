#pragma once

// Time-limited TURN credentials shared with a TURN server through a secret: the "REST API for access to
// TURN services" (draft-uberti-behave-turn-rest), which coturn checks with use-auth-secret. Pure.
#include <chrono>
#include <string>
#include <string_view>

namespace tern::modules {

struct TurnCredentials {
    std::string username;  // "<unix expiry><separator><id>"
    std::string password;  // base64(HMAC-SHA1(secret, username))
    std::chrono::system_clock::time_point expires;
};

// Credentials for `id` valid for `ttl` from `now` (whole seconds), signed with `secret`.
TurnCredentials turn_rest_credentials(std::string_view secret, std::string_view id,
                                      std::chrono::system_clock::time_point now, std::chrono::seconds ttl,
                                      char separator = ':');

// The password the TURN server expects for `username`.
std::string turn_rest_password(std::string_view secret, std::string_view username);

// A stable stand-in for a bare JID in TURN usernames, so the TURN server's logs do not name the account:
// 32 hex digits of HMAC-SHA-256(key, bare JID). Whoever holds the key can still test a guessed JID.
std::string turn_pseudonym(std::string_view key, std::string_view bare_jid);

// XEP-0082 DateTime in UTC, whole seconds: "2024-05-01T12:00:00Z".
std::string xep0082_datetime(std::chrono::system_clock::time_point t);

}  // namespace tern::modules
