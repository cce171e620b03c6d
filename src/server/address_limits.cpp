#include "server/address_limits.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "base/ip_prefix.hpp"

namespace tern::server {

namespace {

// How many failures past the free ones a record keeps: enough for any max_delay (2^7 s > 60 s).
constexpr double extra_failures_kept = 8;
// Each event removes at most this many expired records, so one event costs O(1) whatever the number
// of addresses; records are added one per failure, so the queue still drains faster than it fills.
constexpr int expired_per_event = 4;

}  // namespace

AddressLimitSettings address_limit_settings(const config::LimitsConfig& limits)
{
    return {limits.max_connections_per_ip, limits.max_unauthenticated_per_ip, limits.max_auth_failures_per_minute,
            limits.auth_failure_max_delay, limits.ipv6_prefix_length};
}

AddressLimits::AddressLimits(AddressLimitSettings settings) : settings_(settings) {}

AddressLimitSettings AddressLimits::settings() const
{
    std::lock_guard lock(settings_mutex_);
    return settings_;
}

void AddressLimits::set_settings(AddressLimitSettings settings)
{
    std::lock_guard lock(settings_mutex_);
    settings_ = settings;
}

std::string AddressLimits::key(std::string_view address) const
{
    return base::address_key(address, settings().v6_prefix_length);
}

AddressLimits::Shard& AddressLimits::shard(const std::string& key)
{
    return shards_[std::hash<std::string>{}(key) % shard_count];
}

const AddressLimits::Shard& AddressLimits::shard(const std::string& key) const
{
    return shards_[std::hash<std::string>{}(key) % shard_count];
}

//---------------------------------------------------------------------------------------------------------
// Connections

bool AddressLimits::try_connect(const std::string& key)
{
    const auto s = settings();
    Shard& sh = shard(key);
    std::lock_guard lock(sh.mutex);
    auto [it, fresh] = sh.connections.try_emplace(key);
    auto& count = it->second;
    if (count.total >= s.max_connections || count.unauthenticated >= s.max_unauthenticated) {
        if (fresh) sh.connections.erase(it);
        return false;
    }
    ++count.total;
    ++count.unauthenticated;
    return true;
}

void AddressLimits::authenticated(const std::string& key)
{
    Shard& sh = shard(key);
    std::lock_guard lock(sh.mutex);
    auto it = sh.connections.find(key);
    if (it != sh.connections.end() && it->second.unauthenticated > 0) --it->second.unauthenticated;
}

void AddressLimits::disconnected(const std::string& key, bool authenticated)
{
    Shard& sh = shard(key);
    std::lock_guard lock(sh.mutex);
    auto it = sh.connections.find(key);
    if (it == sh.connections.end()) return;
    if (!authenticated && it->second.unauthenticated > 0) --it->second.unauthenticated;
    if (it->second.total > 0) --it->second.total;
    if (it->second.total == 0) sh.connections.erase(it);
}

AddressLimits::Connections AddressLimits::connections(const std::string& key) const
{
    const Shard& sh = shard(key);
    std::lock_guard lock(sh.mutex);
    auto it = sh.connections.find(key);
    if (it == sh.connections.end()) return {};
    return {it->second.total, it->second.unauthenticated};
}

//---------------------------------------------------------------------------------------------------------
// Failed logins

void AddressLimits::drain(Failures& f, Clock::time_point now, const AddressLimitSettings& s)
{
    if (now > f.updated) {
        const double minutes = std::chrono::duration<double>(now - f.updated).count() / 60.0;
        f.score = std::max(0.0, f.score - minutes * s.failures_per_minute);
        f.updated = now;
    }
}

std::chrono::milliseconds AddressLimits::delay_for(double score, const AddressLimitSettings& s)
{
    // Failures beyond the free ones, a partly drained one still counting.
    const double over = std::ceil(score - 1e-9) - s.failures_per_minute;
    if (over < 0) return std::chrono::milliseconds(0);
    const std::chrono::milliseconds cap = s.max_delay;
    if (over >= 30) return cap;
    return std::min(cap, std::chrono::milliseconds(1000LL << static_cast<int>(over)));
}

void AddressLimits::expire_locked(Shard& sh, Clock::time_point now, const AddressLimitSettings& s)
{
    // A record is forgotten once it has drained to zero; the longest that takes is while it holds the most.
    const double most = s.failures_per_minute + extra_failures_kept;
    const auto lifetime = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(60.0 * most / s.failures_per_minute));
    for (int i = 0; i < expired_per_event && !sh.expiry.empty(); ++i) {
        auto& [queued, key] = sh.expiry.front();
        if (queued + lifetime > now) break;
        auto it = sh.failures.find(key);
        // A later failure re-queued the key further back: only that entry may remove it.
        if (it != sh.failures.end() && it->second.last_failure == queued) sh.failures.erase(it);
        sh.expiry.pop_front();
    }
}

std::chrono::milliseconds AddressLimits::check_locked(Shard& sh, const std::string& key, Clock::time_point now,
                                                      bool failed, const AddressLimitSettings& s)
{
    expire_locked(sh, now, s);
    auto it = sh.failures.find(key);
    if (it == sh.failures.end()) {
        if (!failed) return std::chrono::milliseconds(0);
        it = sh.failures.emplace(key, Failures{0, now, now}).first;
    }
    drain(it->second, now, s);
    const auto wait = delay_for(it->second.score, s);
    if (failed) {
        it->second.score = std::min(it->second.score + 1, s.failures_per_minute + extra_failures_kept);
        it->second.last_failure = now;
        sh.expiry.emplace_back(now, key);
    }
    return wait;
}

std::chrono::milliseconds AddressLimits::auth_checked(const std::string& address_key, const std::string& account,
                                                      Clock::time_point now, bool failed)
{
    const auto s = settings();
    std::chrono::milliseconds wait{0};
    {
        Shard& sh = shard(address_key);
        std::lock_guard lock(sh.mutex);
        wait = check_locked(sh, address_key, now, failed, s);
    }
    if (!account.empty()) {
        Shard& sh = shard(account);
        std::lock_guard lock(sh.mutex);
        wait = std::max(wait, check_locked(sh, account, now, failed, s));
    }
    return wait;
}

std::chrono::milliseconds AddressLimits::delay(const std::string& key, Clock::time_point now)
{
    const auto s = settings();
    Shard& sh = shard(key);
    std::lock_guard lock(sh.mutex);
    return check_locked(sh, key, now, false, s);
}

std::size_t AddressLimits::failure_records() const
{
    std::size_t n = 0;
    for (const auto& sh : shards_) {
        std::lock_guard lock(sh.mutex);
        n += sh.failures.size();
    }
    return n;
}

}  // namespace tern::server
