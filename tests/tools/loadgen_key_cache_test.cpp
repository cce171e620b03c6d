#include "loadgen/key_cache.hpp"

#include <doctest/doctest.h>

#include <string_view>

using namespace tern;
using crypto::Hash;
using loadgen::ScramKeyCache;

namespace {

// RFC 5802 §5: user "user", password "pencil", salt QSXCR+Q6sek8bf92 (base64), 4096 iterations.
constexpr std::string_view rfc5802_server_first = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
constexpr std::string_view rfc5802_client_final =
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";

// One login of account `account` through the cache, as tern-loadgen's client does it: the cached keys go
// to the SCRAM client, the keys it used go back. Returns the client-final message.
std::string login(ScramKeyCache& cache, std::uint32_t account, std::string_view server_first = rfc5802_server_first)
{
    sasl::ScramClientOptions options;
    options.nonce = "fyko+d2lbbFgONRv9qkxdawL";
    options.salted = cache.lookup(account, Hash::Sha1);
    sasl::ScramClient client(Hash::Sha1, "user", "pencil", std::move(options));
    client.client_first();
    const auto final_message = client.client_final(server_first);
    REQUIRE(final_message);
    cache.record(account, Hash::Sha1, client.salted_password());
    return *final_message;
}

sasl::SaltedPassword salted(std::string salt, std::uint32_t iterations, std::string value)
{
    return {std::move(salt), iterations, std::move(value)};
}

}  // namespace

TEST_SUITE("tools") {

TEST_CASE("scram key cache: the first login of an account derives, later ones reuse, per account")
{
    ScramKeyCache cache(3, Hash::Sha1, true);
    CHECK_FALSE(cache.lookup(0, Hash::Sha1));
    cache.record(0, Hash::Sha1, salted("s", 4096, "k0"));
    CHECK(cache.derivations() == 1);
    REQUIRE(cache.lookup(0, Hash::Sha1));
    CHECK(*cache.lookup(0, Hash::Sha1) == salted("s", 4096, "k0"));
    CHECK_FALSE(cache.lookup(1, Hash::Sha1));  // another account has its own entry
    cache.record(0, Hash::Sha1, salted("s", 4096, "k0"));
    CHECK(cache.hits() == 1);
    CHECK(cache.derivations() == 1);
}

TEST_CASE("scram key cache: a new salt, iteration count or hash is a derivation, and replaces the entry")
{
    ScramKeyCache cache(1, Hash::Sha1, true);
    cache.record(0, Hash::Sha1, salted("s", 4096, "k"));
    cache.record(0, Hash::Sha1, salted("t", 4096, "k2"));  // the password was reset: a new salt
    CHECK(cache.derivations() == 2);
    CHECK(*cache.lookup(0, Hash::Sha1) == salted("t", 4096, "k2"));
    cache.record(0, Hash::Sha1, salted("t", 10000, "k3"));
    CHECK(cache.derivations() == 3);
    CHECK(cache.hits() == 0);
    CHECK_FALSE(cache.lookup(0, Hash::Sha256));  // the keys are the run's hash's
    CHECK_FALSE(cache.lookup(5, Hash::Sha1));    // out of range: no entry, no crash
}

TEST_CASE("scram key cache disabled: every login derives")
{
    ScramKeyCache cache(2, Hash::Sha1, false);
    CHECK_FALSE(cache.enabled());
    cache.record(0, Hash::Sha1, salted("s", 4096, "k"));
    CHECK_FALSE(cache.lookup(0, Hash::Sha1));
    cache.record(0, Hash::Sha1, salted("s", 4096, "k"));
    CHECK(cache.derivations() == 2);
    CHECK(cache.hits() == 0);
}

TEST_CASE("scram key cache with the SCRAM client: reused keys give the RFC 5802 proof, a new salt derives")
{
    ScramKeyCache cache(1, Hash::Sha1, true);
    CHECK(login(cache, 0) == rfc5802_client_final);
    CHECK(login(cache, 0) == rfc5802_client_final);
    CHECK(cache.derivations() == 1);
    CHECK(cache.hits() == 1);
    // The server now sends another salt (the password was changed and set again): derived afresh.
    login(cache, 0, "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf93,i=4096");
    CHECK(cache.derivations() == 2);

    ScramKeyCache uncached(1, Hash::Sha1, false);
    CHECK(login(uncached, 0) == rfc5802_client_final);
    CHECK(login(uncached, 0) == rfc5802_client_final);
    CHECK(uncached.derivations() == 2);
}

}  // TEST_SUITE
