#pragma once

// What a run measured, and how it is printed: one JSON object per line and phase (for scripts), and a
// plain table (for people).
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tern::loadgen {

class Latencies {
public:
    void add(std::chrono::steady_clock::duration d) { samples_ms_.push_back(std::chrono::duration<double, std::milli>(d).count()); }
    std::size_t size() const { return samples_ms_.size(); }
    // Nearest-rank percentile (p in 0..100) in milliseconds; 0 without samples.
    double percentile(double p);
    double max();

private:
    void sort();

    std::vector<double> samples_ms_;
    std::size_t sorted_ = 0;  // how many leading samples are known sorted
};

// Failures counted by kind ("timeout:sasl", "stream-error:policy-violation", ...).
using ErrorCounts = std::map<std::string, std::uint64_t>;
std::uint64_t total(const ErrorCounts& errors);

// Builds one flat-ish JSON object: numbers, strings, and nested objects of numbers.
class JsonLine {
public:
    JsonLine& add(std::string_view key, std::string_view value);
    JsonLine& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
    JsonLine& add(std::string_view key, double value);
    JsonLine& add(std::string_view key, std::uint64_t value);
    JsonLine& add(std::string_view key, std::int64_t value);
    JsonLine& add(std::string_view key, int value) { return add(key, std::int64_t{value}); }
    JsonLine& add(std::string_view key, std::uint32_t value) { return add(key, std::uint64_t{value}); }
    JsonLine& add(std::string_view key, const ErrorCounts& counts);
    JsonLine& add_latencies(std::string_view key, Latencies& latencies);
    std::string str() const { return "{" + body_ + "}"; }

private:
    void key(std::string_view k);

    std::string body_;
};

std::string json_escape(std::string_view text);

// A two-column table: a title line, then "name  value" rows aligned.
class Table {
public:
    explicit Table(std::string title) : title_(std::move(title)) {}
    Table& row(std::string name, std::string value);
    std::string str() const;

private:
    std::string title_;
    std::vector<std::pair<std::string, std::string>> rows_;
};

std::string format_number(double value, int decimals);

// The generator's own CPU over a phase, as a share of one core: above 90% (over at least half a second;
// shorter phases are mostly noise) it may be the bottleneck rather than the server.
struct OwnCpuShare {
    double seconds = 0;
    double percent = 0;
    bool saturated = false;
};
OwnCpuShare own_cpu_share(double cpu_seconds, double phase_seconds);

}  // namespace tern::loadgen
