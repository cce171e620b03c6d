#pragma once

// The SCRAM client keys a real client keeps between logins (RFC 5802 §5.1: the client may store the
// SaltedPassword, or the ClientKey and ServerKey derived from it, and skip PBKDF2 next time; Conversations
// and Dino do). One entry per account of the run, for the run's hash; an entry is used only when the
// server sends the same salt and iteration count again (sasl::ScramClient checks), so the cache is keyed by
// (account, salt, iterations, hash). Disabled, every login derives its keys (the uncached case). Pure.
#include <cstdint>
#include <optional>
#include <vector>

#include "crypto/crypto.hpp"
#include "sasl/scram_client.hpp"

namespace tern::loadgen {

class ScramKeyCache {
public:
    ScramKeyCache(std::uint32_t accounts, crypto::Hash hash, bool enabled);

    bool enabled() const { return enabled_; }
    crypto::Hash hash() const { return hash_; }

    // What to hand sasl::ScramClient for a login as `account` (0-based) with `hash`: the keys of its last
    // login, or nothing (disabled, first login, another hash).
    std::optional<sasl::SaltedPassword> lookup(std::uint32_t account, crypto::Hash hash) const;

    // After the client-final message: the keys that login used. Counts a hit when they are the cached ones,
    // else a derivation (and keeps them for next time).
    void record(std::uint32_t account, crypto::Hash hash, const sasl::SaltedPassword& used);

    std::uint64_t hits() const { return hits_; }
    std::uint64_t derivations() const { return derivations_; }

private:
    std::vector<std::optional<sasl::SaltedPassword>> entries_;
    crypto::Hash hash_;
    bool enabled_;
    std::uint64_t hits_ = 0;
    std::uint64_t derivations_ = 0;
};

}  // namespace tern::loadgen
