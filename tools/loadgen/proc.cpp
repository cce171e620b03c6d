#include "loadgen/proc.hpp"

#include <filesystem>
#include <system_error>

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace tern::loadgen {

namespace {

std::optional<std::string> read_file(const std::string& path)
{
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::optional<std::uint64_t> number_at(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr == text.data()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<std::uint64_t> parse_vm_rss_kb(std::string_view status)
{
    constexpr std::string_view key = "VmRSS:";
    std::size_t at = 0;
    while (at < status.size()) {
        const auto end = std::min(status.find('\n', at), status.size());
        const std::string_view line = status.substr(at, end - at);
        if (line.starts_with(key)) return number_at(line.substr(key.size()));
        at = end + 1;
    }
    return std::nullopt;
}

std::optional<std::uint64_t> parse_cpu_ticks(std::string_view stat)
{
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count fields after the last ')'.
    const auto paren = stat.rfind(')');
    if (paren == std::string_view::npos) return std::nullopt;
    std::string_view rest = stat.substr(paren + 1);
    // Fields after ')' start at field 3 (state); utime and stime are fields 14 and 15.
    for (int field = 3; field < 14; ++field) {
        const auto space = rest.find(' ', 1);
        if (space == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(space);
    }
    const auto utime = number_at(rest);
    if (!utime) return std::nullopt;
    const auto space = rest.find(' ', 1);
    if (space == std::string_view::npos) return std::nullopt;
    const auto stime = number_at(rest.substr(space));
    if (!stime) return std::nullopt;
    return *utime + *stime;
}

std::optional<ProcessSample> sample_process(int pid)
{
    const std::string dir = "/proc/" + std::to_string(pid);
    const auto status = read_file(dir + "/status");
    const auto stat = read_file(dir + "/stat");
    if (!status || !stat) return std::nullopt;
    const auto rss = parse_vm_rss_kb(*status);
    const auto ticks = parse_cpu_ticks(*stat);
    if (!rss || !ticks) return std::nullopt;
    return ProcessSample{*rss, static_cast<double>(*ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK))};
}

std::optional<std::uint64_t> count_open_fds(int pid)
{
    std::error_code ec;
    std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
    if (ec) return std::nullopt;
    std::uint64_t n = 0;
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (ec) return std::nullopt;
        ++n;
    }
    return n;
}

OwnUsage own_usage()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return {seconds(usage.ru_utime), seconds(usage.ru_stime), static_cast<std::uint64_t>(usage.ru_maxrss)};
}

std::uint64_t raise_open_file_limit()
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    const rlim_t target = limit.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : limit.rlim_max;
    if (limit.rlim_cur < target) {
        rlimit raised = limit;
        raised.rlim_cur = target;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    return limit.rlim_cur;
}

}  // namespace tern::loadgen
