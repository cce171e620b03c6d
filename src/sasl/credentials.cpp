#include "sasl/credentials.hpp"

#include <algorithm>
#include <string>

namespace tern::sasl {
namespace {

const std::string& process_secret()
{
    static const std::string secret = crypto::random_bytes(32);
    return secret;
}

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
    std::string label(crypto::hash_name(hash));
    label += '\0';
    label += username;
    const std::size_t size = crypto::digest_size(hash);
    return {
        crypto::ScramKeys{
            .salt = crypto::hmac(crypto::Hash::Sha256, process_secret(), label).substr(0, fake_salt_size),
            .iterations = std::max<std::uint32_t>(ctx.unknown_user_iterations, 1),
            .stored_key = crypto::random_bytes(size),
            .server_key = crypto::random_bytes(size),
        },
        false,
    };
}

}  // namespace tern::sasl
