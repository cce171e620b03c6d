#pragma once

// The client side of SCRAM (RFC 5802, RFC 7677; channel binding per RFC 5929 / RFC 9266), for the tests and
// the load generator. Pure: messages in, messages out.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/crypto.hpp"

namespace tern::sasl {

// SaltedPassword (RFC 5802 §3) and what it was derived with. Deriving it is the expensive step (PBKDF2);
// a client logging in as the same account again can pass it back in and skip that step.
struct SaltedPassword {
    std::string salt;  // raw bytes
    std::uint32_t iterations = 0;
    std::string value;

    friend bool operator==(const SaltedPassword&, const SaltedPassword&) = default;
};

struct ScramClientOptions {
    std::string gs2_flag = "n";  // "n" (no binding), "y" (could bind, thinks the server can't) or "p=<type>"
    std::string binding_data{};  // channel-binding data for "p=<type>"
    std::string authzid{};
    std::string nonce{};         // empty: 18 random bytes in base64 (set only to replay RFC test vectors)
    std::optional<SaltedPassword> salted{};  // used when the server's salt and iteration count match
};

class ScramClient {
public:
    ScramClient(crypto::Hash hash, std::string username, std::string password, ScramClientOptions options = {});

    std::string client_first();
    // The client-final message, or nullopt if server-first is malformed or its nonce does not continue ours.
    std::optional<std::string> client_final(std::string_view server_first);
    bool verify_server_final(std::string_view server_final) const;

    // After client_final(): the SaltedPassword used (taken from the options or derived).
    const SaltedPassword& salted_password() const { return salted_; }

private:
    crypto::Hash hash_;
    std::string username_;
    std::string password_;
    std::string gs2_header_;
    std::string binding_data_;
    std::string client_nonce_;
    std::string client_first_bare_;
    std::string expected_server_signature_;
    SaltedPassword salted_;
};

}  // namespace tern::sasl
