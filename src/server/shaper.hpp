#pragma once

// The inbound byte rate of one session as a token bucket (ejabberd's shaper, Prosody's mod_limits): up to
// `burst` bytes at once, `rate` bytes per second on average. The connection reads, hands the byte count
// here, and when the bucket is in debt it does not read again until the time returned: a client sending
// faster than the rate is simply read more slowly, and the kernel's buffers push back on it. No I/O, no
// clock of its own.
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace tern::server {

class Shaper {
public:
    using Clock = std::chrono::steady_clock;

    // Unlimited.
    Shaper() = default;
    // `rate` bytes per second (0: unlimited) with a bucket of `burst` bytes, full at `now`.
    Shaper(std::uint32_t rate, std::uint32_t burst, Clock::time_point now);

    bool limited() const { return rate_ > 0; }
    // Takes `bytes` read at `now`; returns when reading may go on: `now` while the bucket holds tokens,
    // else the time the debt is paid back.
    Clock::time_point consume(std::size_t bytes, Clock::time_point now);

private:
    std::uint32_t rate_ = 0;
    std::uint32_t burst_ = 0;
    double tokens_ = 0;  // negative: debt
    Clock::time_point last_{};
};

}  // namespace tern::server
