#include "loadgen/key_cache.hpp"

namespace tern::loadgen {

ScramKeyCache::ScramKeyCache(std::uint32_t accounts, crypto::Hash hash, bool enabled)
    : entries_(enabled ? accounts : 0), hash_(hash), enabled_(enabled)
{
}

std::optional<sasl::SaltedPassword> ScramKeyCache::lookup(std::uint32_t account, crypto::Hash hash) const
{
    if (!enabled_ || hash != hash_ || account >= entries_.size()) return std::nullopt;
    return entries_[account];
}

void ScramKeyCache::record(std::uint32_t account, crypto::Hash hash, const sasl::SaltedPassword& used)
{
    if (!enabled_ || hash != hash_ || account >= entries_.size()) {
        ++derivations_;
        return;
    }
    auto& entry = entries_[account];
    if (entry && *entry == used) {
        ++hits_;
        return;
    }
    ++derivations_;
    entry = used;
}

}  // namespace tern::loadgen
