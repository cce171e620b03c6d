#pragma once

// Thin wrappers over wolfCrypt. Binary data travels as std::string (bytes), like the XML it ends up in.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::crypto {

enum class Hash { Sha1, Sha256 };

std::size_t digest_size(Hash h);
std::string_view hash_name(Hash h);  // "SHA-1", "SHA-256" (as in SCRAM mechanism names)

std::string digest(Hash h, std::string_view data);
std::string hmac(Hash h, std::string_view key, std::string_view data);
std::string pbkdf2(Hash h, std::string_view password, std::string_view salt, std::uint32_t iterations);

// Cryptographically secure random bytes; throws std::runtime_error if the RNG fails.
std::string random_bytes(std::size_t n);

std::string base64_encode(std::string_view bytes);
// Strict RFC 4648 decoding: padding required, no whitespace, no characters outside the alphabet.
std::optional<std::string> base64_decode(std::string_view text);

// Compares in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// SCRAM (RFC 5802) stored credentials: what the account store keeps instead of a password.
struct ScramKeys {
    std::string salt;
    std::uint32_t iterations = 0;
    std::string stored_key;  // H(ClientKey)
    std::string server_key;  // HMAC(SaltedPassword, "Server Key")
};

// Derives ScramKeys from a (SASLprep'd) password. Costs `iterations` PBKDF2 rounds: run off the I/O threads.
ScramKeys derive_scram_keys(Hash h, std::string_view password, std::string_view salt, std::uint32_t iterations);

}  // namespace tern::crypto
