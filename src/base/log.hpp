#pragma once

// One line per event on stderr, key=value fields, so journald and grep both read it:
//   2026-11-22T10:00:00.123Z level=info event=c2s.bound conn=7 jid=alice@example.org/phone
// Secrets never go through here: pass identifiers, not credentials.
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace tern::log {

enum class Level { Error, Warn, Info, Debug };

std::string_view to_string(Level level);
bool parse_level(std::string_view text, Level& out);

void set_level(Level level);
bool enabled(Level level);
void write(Level level, std::string_view event, std::string_view fields);

// A value that may hold spaces, quotes or '=' becomes a quoted, escaped string.
std::string quote(std::string_view value);

template <class... Args>
void emit(Level level, std::string_view event, fmt::format_string<Args...> fields, Args&&... args)
{
    if (enabled(level)) write(level, event, fmt::format(fields, std::forward<Args>(args)...));
}

template <class... Args>
void error(std::string_view event, fmt::format_string<Args...> fields, Args&&... args)
{
    emit(Level::Error, event, fields, std::forward<Args>(args)...);
}

template <class... Args>
void warn(std::string_view event, fmt::format_string<Args...> fields, Args&&... args)
{
    emit(Level::Warn, event, fields, std::forward<Args>(args)...);
}

template <class... Args>
void info(std::string_view event, fmt::format_string<Args...> fields, Args&&... args)
{
    emit(Level::Info, event, fields, std::forward<Args>(args)...);
}

template <class... Args>
void debug(std::string_view event, fmt::format_string<Args...> fields, Args&&... args)
{
    emit(Level::Debug, event, fields, std::forward<Args>(args)...);
}

}  // namespace tern::log
