#pragma once

// Process figures from /proc and getrusage: the server's resident memory and CPU time, our own CPU time.
#include <cstdint>
#include <optional>
#include <string_view>

namespace tern::loadgen {

struct ProcessSample {
    std::uint64_t rss_kb = 0;    // VmRSS
    double cpu_seconds = 0;      // user + system
};

// Parsers for the files' text (pure, for tests).
std::optional<std::uint64_t> parse_vm_rss_kb(std::string_view status);
// /proc/PID/stat: utime + stime in clock ticks.
std::optional<std::uint64_t> parse_cpu_ticks(std::string_view stat);

// nullopt if the process is gone or its files are unreadable.
std::optional<ProcessSample> sample_process(int pid);

// Entries of /proc/PID/fd: the process's open descriptors (nullopt if unreadable).
std::optional<std::uint64_t> count_open_fds(int pid);

struct OwnUsage {
    double user_seconds = 0;
    double system_seconds = 0;
    std::uint64_t max_rss_kb = 0;
};
OwnUsage own_usage();

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit in effect.
std::uint64_t raise_open_file_limit();

}  // namespace tern::loadgen
