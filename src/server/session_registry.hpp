#pragma once

// Every bound c2s session, by full JID, shared by all workers (sharded, short critical sections).
// Binding follows the "newest wins" conflict policy: the older session for the same full JID is returned
// so the caller can end it with <conflict/>.
#include <array>
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/envelope.hpp"
#include "server/session.hpp"
#include "xmpp/errors.hpp"
#include "xmpp/jid.hpp"

namespace tern::server {

// A bound session as the rest of the server sees it. Both calls are thread-safe: the implementation
// hands the work to the session's own worker thread.
class ClientHandle {
public:
    virtual ~ClientHandle() = default;
    virtual void deliver(Envelope stanza) = 0;
    virtual void kick(xmpp::StreamErrorCondition condition, std::string text) = 0;
};

class SessionRegistry {
public:
    explicit SessionRegistry(std::size_t max_resources_per_account) : max_resources_(max_resources_per_account) {}

    struct BindResult {
        BindOutcome outcome = BindOutcome::Bound;
        std::shared_ptr<ClientHandle> replaced;  // the older session for this full JID, if any
    };

    BindResult bind(const xmpp::Jid& full, std::shared_ptr<ClientHandle> client);
    // Removes the entry only while it still belongs to `client` (a newer session may have replaced it).
    void unbind(const xmpp::Jid& full, const ClientHandle* client);

    std::shared_ptr<ClientHandle> find(const xmpp::Jid& full) const;
    struct Resource {
        std::string resource;
        std::shared_ptr<ClientHandle> client;
        // RFC 6121 and XEP-0280 state, written only by the session itself (through update()) and read by
        // whoever routes to the account.
        bool available = false;  // sent initial presence, not unavailable since (§4.2)
        int priority = 0;        // of its last available presence (§4.7.2.3)
        std::optional<Envelope> presence{};  // that presence as sent: 'from' stamped, no 'to'
        bool interested = false;  // asked for the roster, so it gets roster pushes (§2.2)
        bool carbons = false;     // XEP-0280 enabled
    };
    std::vector<Resource> resources(const xmpp::Jid& bare) const;
    std::vector<Resource> resources(const std::string& bare) const;  // "local@domain", prepared
    // Changes the entry of `full` while it belongs to `client`; false when it does not (gone or replaced).
    bool update(const xmpp::Jid& full, const ClientHandle* client, const std::function<void(Resource&)>& change);

    std::size_t size() const { return size_.load(std::memory_order_relaxed); }
    void set_max_resources(std::size_t n) { max_resources_.store(n, std::memory_order_relaxed); }

private:
    struct Shard {
        mutable std::mutex mutex;
        std::unordered_map<std::string, std::vector<Resource>> accounts;  // key: bare JID
    };
    Shard& shard_for(const std::string& bare) const;

    static constexpr std::size_t shard_count = 16;
    mutable std::array<Shard, shard_count> shards_;
    std::atomic<std::size_t> max_resources_;
    std::atomic<std::size_t> size_{0};
};

}  // namespace tern::server
