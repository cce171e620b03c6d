#include "base/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace tern::log {

namespace {

std::atomic<Level> current_level{Level::Info};

constexpr std::string_view level_names[] = {"error", "warn", "info", "debug"};

std::string timestamp()
{
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto seconds = system_clock::to_time_t(now);
    const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                       utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
}

}  // namespace

std::string_view to_string(Level level)
{
    return level_names[static_cast<int>(level)];
}

bool parse_level(std::string_view text, Level& out)
{
    for (int i = 0; i < 4; ++i) {
        if (level_names[i] == text) {
            out = static_cast<Level>(i);
            return true;
        }
    }
    return false;
}

void set_level(Level level)
{
    current_level.store(level, std::memory_order_relaxed);
}

bool enabled(Level level)
{
    return level <= current_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view event, std::string_view fields)
{
    // One fwrite per line: lines from different threads never interleave.
    const std::string line = fields.empty()
        ? fmt::format("{} level={} event={}\n", timestamp(), to_string(level), event)
        : fmt::format("{} level={} event={} {}\n", timestamp(), to_string(level), event, fields);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

std::string quote(std::string_view value)
{
    const bool plain = !value.empty() && value.find_first_of(" \t\r\n\"=\\") == std::string_view::npos;
    if (plain) return std::string(value);
    std::string out = "\"";
    for (char c : value) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: out += c;
        }
    }
    out += '"';
    return out;
}

}  // namespace tern::log
