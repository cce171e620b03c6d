#pragma once

// Per-address abuse limits, shared by all workers. Time comes in as a parameter.
//
// Connections. An address (IPv4 as it is, IPv6 by its /64, see base::address_key) may hold at most
// max_unauthenticated connections that have not yet proved a password, and max_connections in all: a
// flood of unauthenticated connections is cut short, while a thousand people behind one NAT who know
// their passwords are served.
//
// Failed logins never refuse anybody. Each password check is answered after a delay that grows with the
// recent failures of the address and of the account (whichever is longer): the first
// failures_per_minute cost nothing, each further one doubles the delay from 1 s up to max_delay, and the
// count drains at failures_per_minute. The delay is the same for a right and a wrong password, so a
// guesser learns nothing before it has passed, and a guess is only as fast as an unauthenticated
// connection slot allows: at most max_unauthenticated / max_delay answers per second per address once it
// has failed enough. Someone else's failures may slow a right password down, never refuse it.
//
// Cost per event is independent of the number of addresses: keys are spread over shards with a mutex
// each, and failure records expire through a time-ordered queue that each event drains by a few entries.
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/config.hpp"

namespace tern::server {

struct AddressLimitSettings {
    std::uint32_t max_connections = 10000;
    std::uint32_t max_unauthenticated = 32;
    std::uint32_t failures_per_minute = 5;
    std::chrono::seconds max_delay{10};
    unsigned v6_prefix_length = 64;
};
AddressLimitSettings address_limit_settings(const config::LimitsConfig& limits);

class AddressLimits {
public:
    using Clock = std::chrono::steady_clock;

    explicit AddressLimits(AddressLimitSettings settings = {});

    // The key `address` is counted under.
    std::string key(std::string_view address) const;

    // Counts a new, unauthenticated connection from the key; false (nothing counted) when over a limit.
    bool try_connect(const std::string& key);
    // The connection proved a password: it no longer counts against max_unauthenticated.
    void authenticated(const std::string& key);
    void disconnected(const std::string& key, bool authenticated);
    struct Connections {
        std::uint32_t total = 0;
        std::uint32_t unauthenticated = 0;
    };
    Connections connections(const std::string& key) const;

    // A password check on behalf of `address_key` for `account` ended (failed: wrong password or no such
    // account). Returns how long to wait before answering, from the failures recorded before this one.
    std::chrono::milliseconds auth_checked(const std::string& address_key, const std::string& account,
                                           Clock::time_point now, bool failed);
    // The delay the next check for a key (address key or account) would get.
    std::chrono::milliseconds delay(const std::string& key, Clock::time_point now);

    void set_settings(AddressLimitSettings settings);
    // Failure records held (for tests and the docs' figures).
    std::size_t failure_records() const;

private:
    struct Failures {
        double score = 0;  // recent failures, draining at failures_per_minute
        Clock::time_point updated;
        Clock::time_point last_failure;  // matches the record's newest entry in the expiry queue
    };
    struct ConnectionCount {
        std::uint32_t total = 0;
        std::uint32_t unauthenticated = 0;
    };
    struct Shard {
        mutable std::mutex mutex;
        std::unordered_map<std::string, ConnectionCount> connections;
        std::unordered_map<std::string, Failures> failures;
        std::deque<std::pair<Clock::time_point, std::string>> expiry;  // (failure time, key), oldest first
    };
    static constexpr std::size_t shard_count = 64;

    Shard& shard(const std::string& key);
    const Shard& shard(const std::string& key) const;
    AddressLimitSettings settings() const;
    // Drains `failures` by the time since the last update; the record may then be forgotten.
    static void drain(Failures& f, Clock::time_point now, const AddressLimitSettings& s);
    static std::chrono::milliseconds delay_for(double score, const AddressLimitSettings& s);
    // Under the shard's lock: the delay for the key, then (if failed) one more failure on it.
    std::chrono::milliseconds check_locked(Shard& shard, const std::string& key, Clock::time_point now, bool failed,
                                           const AddressLimitSettings& s);
    void expire_locked(Shard& shard, Clock::time_point now, const AddressLimitSettings& s);

    mutable std::mutex settings_mutex_;
    AddressLimitSettings settings_;
    std::array<Shard, shard_count> shards_;
};

}  // namespace tern::server
