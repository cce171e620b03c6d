#include "server/address_limits.hpp"

#include <algorithm>

namespace tern::server {

bool AddressLimits::try_connect(const std::string& address)
{
    std::lock_guard lock(mutex_);
    auto& count = connections_[address];
    if (count >= max_connections_) {
        if (count == 0) connections_.erase(address);
        return false;
    }
    ++count;
    return true;
}

void AddressLimits::disconnected(const std::string& address)
{
    std::lock_guard lock(mutex_);
    auto it = connections_.find(address);
    if (it == connections_.end()) return;
    if (--it->second == 0) connections_.erase(it);
}

std::uint32_t AddressLimits::connections(const std::string& address) const
{
    std::lock_guard lock(mutex_);
    auto it = connections_.find(address);
    return it == connections_.end() ? 0 : it->second;
}

void AddressLimits::refill(Bucket& bucket, Clock::time_point now) const
{
    const double minutes = std::chrono::duration<double>(now - bucket.updated).count() / 60.0;
    bucket.tokens = std::min<double>(max_failures_, bucket.tokens + minutes * max_failures_);
    bucket.updated = now;
}

bool AddressLimits::auth_allowed(const std::string& address, Clock::time_point now)
{
    std::lock_guard lock(mutex_);
    auto it = failures_.find(address);
    if (it == failures_.end()) return true;
    refill(it->second, now);
    return it->second.tokens - it->second.in_progress >= 1.0;
}

bool AddressLimits::begin_auth(const std::string& address, Clock::time_point now)
{
    std::lock_guard lock(mutex_);
    if (failures_.size() > 4096) forget_full_buckets(now);
    auto [it, fresh] = failures_.try_emplace(address, Bucket{static_cast<double>(max_failures_), now, 0});
    if (!fresh) refill(it->second, now);
    if (it->second.tokens - it->second.in_progress < 1.0) return false;
    ++it->second.in_progress;
    return true;
}

void AddressLimits::end_auth(const std::string& address, Clock::time_point now, bool failed)
{
    std::lock_guard lock(mutex_);
    auto it = failures_.find(address);
    if (it == failures_.end() || it->second.in_progress == 0) return;
    --it->second.in_progress;
    refill(it->second, now);
    if (failed) it->second.tokens = std::max(0.0, it->second.tokens - 1.0);
    // An address whose logins succeed keeps no entry.
    if (it->second.in_progress == 0 && it->second.tokens >= max_failures_) failures_.erase(it);
}

void AddressLimits::auth_failed(const std::string& address, Clock::time_point now)
{
    std::lock_guard lock(mutex_);
    if (failures_.size() > 4096) forget_full_buckets(now);
    auto [it, fresh] = failures_.try_emplace(address, Bucket{static_cast<double>(max_failures_), now, 0});
    if (!fresh) refill(it->second, now);
    it->second.tokens = std::max(0.0, it->second.tokens - 1.0);
}

void AddressLimits::forget_full_buckets(Clock::time_point now)
{
    for (auto it = failures_.begin(); it != failures_.end();) {
        refill(it->second, now);
        if (it->second.tokens >= max_failures_ && it->second.in_progress == 0)
            it = failures_.erase(it);
        else
            ++it;
    }
}

void AddressLimits::set_limits(std::uint32_t max_connections, std::uint32_t max_auth_failures_per_minute)
{
    std::lock_guard lock(mutex_);
    max_connections_ = max_connections;
    max_failures_ = max_auth_failures_per_minute;
}

}  // namespace tern::server
