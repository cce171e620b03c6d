#include "sasl/credentials.hpp"

#include <algorithm>
#include <string>

namespace tern::sasl {
namespace {

bool usable(const crypto::ScramKeys& keys, crypto::Hash hash)
{
    const std::size_t size = crypto::digest_size(hash);
    return keys.iterations > 0 && keys.stored_key.size() == size && keys.server_key.size() == size;
}

}  // namespace

Credentials find_credentials(const ServerContext& ctx, std::string_view username, crypto::Hash hash)
{
    if (ctx.lookup) {
        if (auto keys = ctx.lookup(username, hash); keys && usable(*keys, hash))
            return {std::move(*keys), true};
    }
    // Keyed by a secret kept in data_dir: the same unknown username gets the same salt at every attempt and
    // after every restart, as a real account does, and nobody without the secret can compute it.
    std::string label(crypto::hash_name(hash));
    label += '\0';
    label += ctx.realm;
    label += '\0';
    label += username;
    const std::size_t size = crypto::digest_size(hash);
    return {
        crypto::ScramKeys{
            .salt = crypto::hmac(crypto::Hash::Sha256, ctx.unknown_user_secret, label).substr(0, fake_salt_size),
            .iterations = std::max<std::uint32_t>(ctx.unknown_user_iterations, 1),
            .stored_key = crypto::random_bytes(size),
            .server_key = crypto::random_bytes(size),
        },
        false,
    };
}

}  // namespace tern::sasl
