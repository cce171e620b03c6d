#pragma once

// Test fixtures for the sasl tests: an in-memory account table and a minimal SCRAM client written
// straight from RFC 5802 §3 over the (vector-tested) crypto primitives.
#include "crypto/crypto.hpp"
#include "sasl/mechanism.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tern::sasl::test {

inline std::string b64d(std::string_view text)
{
    auto out = crypto::base64_decode(text);
    REQUIRE(out.has_value());
    return *out;
}

// Accounts keyed by (username, hash); records every lookup.
struct Accounts {
    std::map<std::pair<std::string, crypto::Hash>, crypto::ScramKeys> keys;
    std::vector<std::pair<std::string, crypto::Hash>> lookups;

    void add(std::string user, crypto::Hash hash, std::string_view password, std::string salt,
             std::uint32_t iterations)
    {
        keys[{std::move(user), hash}] = crypto::derive_scram_keys(hash, password, salt, iterations);
    }

    ServerContext context(bool tls = true, std::vector<ChannelBinding> bindings = {})
    {
        ServerContext ctx;
        ctx.tls = tls;
        ctx.bindings = std::move(bindings);
        ctx.lookup = [this](std::string_view user, crypto::Hash hash) -> std::optional<crypto::ScramKeys> {
            lookups.emplace_back(std::string(user), hash);
            auto it = keys.find({std::string(user), hash});
            if (it == keys.end())
                return std::nullopt;
            return it->second;
        };
        return ctx;
    }
};

struct ScramClient {
    crypto::Hash hash = crypto::Hash::Sha256;
    std::string password = "pencil";
    std::string gs2_header = "n,,";
    std::string cb_data;             // channel-binding data the client believes in
    std::string bare = "n=user,r=rOprNGfwEbeRWgbNEkqO";
    std::string final_extensions;    // e.g. ",x=1", inserted before the proof

    std::string first() const { return gs2_header + bare; }

    // Builds client-final from server-first; remembers the server signature to expect.
    std::string final_message(std::string_view server_first)
    {
        std::string_view rest = server_first;
        auto take = [&rest](char name) {
            REQUIRE(rest.size() >= 2);
            REQUIRE(rest[0] == name);
            REQUIRE(rest[1] == '=');
            const auto comma = rest.find(',');
            std::string value(rest.substr(2, comma == std::string_view::npos ? rest.npos : comma - 2));
            rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
            return value;
        };
        const std::string nonce = take('r');
        const std::string salt = b64d(take('s'));
        const auto iterations = static_cast<std::uint32_t>(std::stoul(take('i')));
        const std::string salted = crypto::pbkdf2(hash, password, salt, iterations);
        const std::string client_key = crypto::hmac(hash, salted, "Client Key");
        const std::string stored_key = crypto::digest(hash, client_key);
        const std::string without_proof =
            "c=" + crypto::base64_encode(gs2_header + cb_data) + ",r=" + nonce + final_extensions;
        const std::string auth_message = bare + "," + std::string(server_first) + "," + without_proof;
        std::string proof = crypto::hmac(hash, stored_key, auth_message);
        for (std::size_t i = 0; i < proof.size(); ++i)
            proof[i] = static_cast<char>(proof[i] ^ client_key[i]);
        expected_server_final =
            "v=" + crypto::base64_encode(crypto::hmac(hash, crypto::hmac(hash, salted, "Server Key"), auth_message));
        return without_proof + ",p=" + crypto::base64_encode(proof);
    }

    std::string expected_server_final;
};

}  // namespace tern::sasl::test
