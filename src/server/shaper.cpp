#include "server/shaper.hpp"

#include <algorithm>

namespace tern::server {

Shaper::Shaper(std::uint32_t rate, std::uint32_t burst, Clock::time_point now)
    : rate_(rate), burst_(std::max(burst, rate == 0 ? 0u : 1u)), tokens_(burst_), last_(now)
{
}

Shaper::Clock::time_point Shaper::consume(std::size_t bytes, Clock::time_point now)
{
    if (!limited()) return now;
    if (now > last_) {
        const double elapsed = std::chrono::duration<double>(now - last_).count();
        tokens_ = std::min<double>(burst_, tokens_ + elapsed * rate_);
        last_ = now;
    }
    tokens_ -= static_cast<double>(bytes);
    if (tokens_ >= 0) return now;
    const std::chrono::duration<double> wait(-tokens_ / rate_);
    return now + std::chrono::ceil<Clock::duration>(wait);
}

}  // namespace tern::server
