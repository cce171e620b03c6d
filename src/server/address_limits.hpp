#pragma once

// Per-address abuse limits, shared by all workers: concurrent connections, and failed logins as a token
// bucket (max_failures per minute, refilled continuously). Time comes in as a parameter.
//
// A login attempt reserves its possible failure when it starts (begin_auth) and settles it when it ends
// (end_auth): attempts started side by side on many connections, before any of them failed, must not get
// more password checks than the budget holds.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tern::server {

class AddressLimits {
public:
    using Clock = std::chrono::steady_clock;

    AddressLimits(std::uint32_t max_connections, std::uint32_t max_auth_failures_per_minute)
        : max_connections_(max_connections), max_failures_(max_auth_failures_per_minute)
    {
    }

    // Counts the connection and returns true while the address is under its limit.
    bool try_connect(const std::string& address);
    void disconnected(const std::string& address);
    std::uint32_t connections(const std::string& address) const;

    // True while the budget, less the attempts in progress, holds a failure.
    bool auth_allowed(const std::string& address, Clock::time_point now);
    void auth_failed(const std::string& address, Clock::time_point now);
    // auth_allowed() that also reserves one failure for the attempt; false reserves nothing.
    bool begin_auth(const std::string& address, Clock::time_point now);
    // The attempt that begin_auth() admitted is over: a failure spends the reservation, else it is returned.
    void end_auth(const std::string& address, Clock::time_point now, bool failed);

    void set_limits(std::uint32_t max_connections, std::uint32_t max_auth_failures_per_minute);

private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point updated;
        std::uint32_t in_progress = 0;  // reserved by begin_auth()
    };
    void refill(Bucket& bucket, Clock::time_point now) const;
    void forget_full_buckets(Clock::time_point now);

    mutable std::mutex mutex_;
    std::uint32_t max_connections_;
    std::uint32_t max_failures_;
    std::unordered_map<std::string, std::uint32_t> connections_;
    std::unordered_map<std::string, Bucket> failures_;
};

}  // namespace tern::server
