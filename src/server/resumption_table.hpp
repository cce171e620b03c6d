#pragma once

// The resumable sessions (XEP-0198), by their SM-ID, shared by all workers. An entry is bound to the account
// that enabled resumption: another account asking for the same id finds nothing, exactly as for an unknown
// id. The ids are random (128 bits), so they can't be guessed either. Handle is the server's handle on one
// bound session (net::SessionHandle); a template keeps this table free of net/ types.
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tern::server {

template <class Handle>
class ResumptionTable {
public:
    void add(std::string id, std::string bare_jid, std::shared_ptr<Handle> handle)
    {
        std::lock_guard lock(mutex_);
        entries_.insert_or_assign(std::move(id), Entry{std::move(bare_jid), std::move(handle)});
    }

    std::shared_ptr<Handle> find(std::string_view id, std::string_view bare_jid) const
    {
        std::lock_guard lock(mutex_);
        const auto it = entries_.find(std::string(id));
        if (it == entries_.end() || it->second.bare_jid != bare_jid) return nullptr;
        return it->second.handle;
    }

    // Only while the entry still belongs to `handle`.
    void remove(std::string_view id, const Handle* handle)
    {
        std::lock_guard lock(mutex_);
        const auto it = entries_.find(std::string(id));
        if (it != entries_.end() && it->second.handle.get() == handle) entries_.erase(it);
    }

    std::size_t size() const
    {
        std::lock_guard lock(mutex_);
        return entries_.size();
    }

private:
    struct Entry {
        std::string bare_jid;
        std::shared_ptr<Handle> handle;
    };
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace tern::server
