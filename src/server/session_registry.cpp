#include "server/session_registry.hpp"

#include <algorithm>
#include <functional>

namespace tern::server {

SessionRegistry::Shard& SessionRegistry::shard_for(const std::string& bare) const
{
    return shards_[std::hash<std::string>{}(bare) % shard_count];
}

SessionRegistry::BindResult SessionRegistry::bind(const xmpp::Jid& full, std::shared_ptr<ClientHandle> client)
{
    const std::string bare = full.bare_str();
    Shard& shard = shard_for(bare);
    std::lock_guard lock(shard.mutex);
    auto& list = shard.accounts[bare];
    auto same = std::find_if(list.begin(), list.end(), [&](const Resource& r) { return r.resource == full.resource(); });
    if (same != list.end()) {
        // The newer session starts afresh: not available, no roster interest, no carbons.
        BindResult result{BindOutcome::Bound, std::move(same->client)};
        *same = Resource{full.resource(), std::move(client)};
        return result;
    }
    if (list.size() >= max_resources_.load(std::memory_order_relaxed)) {
        if (list.empty()) shard.accounts.erase(bare);
        return {BindOutcome::ResourceLimit, nullptr};
    }
    list.push_back({full.resource(), std::move(client)});
    size_.fetch_add(1, std::memory_order_relaxed);
    return {};
}

void SessionRegistry::unbind(const xmpp::Jid& full, const ClientHandle* client)
{
    const std::string bare = full.bare_str();
    Shard& shard = shard_for(bare);
    std::lock_guard lock(shard.mutex);
    auto account = shard.accounts.find(bare);
    if (account == shard.accounts.end()) return;
    auto& list = account->second;
    auto it = std::find_if(list.begin(), list.end(), [&](const Resource& r) {
        return r.resource == full.resource() && r.client.get() == client;
    });
    if (it == list.end()) return;
    list.erase(it);
    size_.fetch_sub(1, std::memory_order_relaxed);
    if (list.empty()) shard.accounts.erase(account);
}

std::shared_ptr<ClientHandle> SessionRegistry::find(const xmpp::Jid& full) const
{
    const std::string bare = full.bare_str();
    const Shard& shard = shard_for(bare);
    std::lock_guard lock(shard.mutex);
    auto account = shard.accounts.find(bare);
    if (account == shard.accounts.end()) return nullptr;
    for (const auto& r : account->second)
        if (r.resource == full.resource()) return r.client;
    return nullptr;
}

std::vector<SessionRegistry::Resource> SessionRegistry::resources(const xmpp::Jid& bare) const
{
    return resources(bare.bare_str());
}

std::vector<SessionRegistry::Resource> SessionRegistry::resources(const std::string& bare) const
{
    const Shard& shard = shard_for(bare);
    std::lock_guard lock(shard.mutex);
    auto account = shard.accounts.find(bare);
    if (account == shard.accounts.end()) return {};
    return account->second;
}

bool SessionRegistry::update(const xmpp::Jid& full, const ClientHandle* client,
                             const std::function<void(Resource&)>& change)
{
    const std::string bare = full.bare_str();
    Shard& shard = shard_for(bare);
    std::lock_guard lock(shard.mutex);
    auto account = shard.accounts.find(bare);
    if (account == shard.accounts.end()) return false;
    for (auto& r : account->second) {
        if (r.resource != full.resource()) continue;
        if (r.client.get() != client) return false;
        change(r);
        return true;
    }
    return false;
}

}  // namespace tern::server
