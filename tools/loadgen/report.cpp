#include "loadgen/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tern::loadgen {

void Latencies::sort()
{
    if (sorted_ == samples_ms_.size()) return;
    std::sort(samples_ms_.begin(), samples_ms_.end());
    sorted_ = samples_ms_.size();
}

double Latencies::percentile(double p)
{
    if (samples_ms_.empty()) return 0;
    sort();
    const double rank = std::ceil(p / 100.0 * static_cast<double>(samples_ms_.size()));
    const auto index = static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(samples_ms_.size()))) - 1;
    return samples_ms_[index];
}

double Latencies::max()
{
    if (samples_ms_.empty()) return 0;
    sort();
    return samples_ms_.back();
}

std::uint64_t total(const ErrorCounts& errors)
{
    std::uint64_t sum = 0;
    for (const auto& [kind, n] : errors) sum += n;
    return sum;
}

std::string json_escape(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                out += buf;
            } else {
                out += c;
            }
        }
    }
    return out;
}

std::string format_number(double value, int decimals)
{
    if (!std::isfinite(value)) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

void JsonLine::key(std::string_view k)
{
    if (!body_.empty()) body_ += ',';
    body_ += '"' + json_escape(k) + "\":";
}

JsonLine& JsonLine::add(std::string_view k, std::string_view value)
{
    key(k);
    body_ += '"' + json_escape(value) + '"';
    return *this;
}

JsonLine& JsonLine::add(std::string_view k, double value)
{
    key(k);
    body_ += format_number(value, 3);
    return *this;
}

JsonLine& JsonLine::add(std::string_view k, std::uint64_t value)
{
    key(k);
    body_ += std::to_string(value);
    return *this;
}

JsonLine& JsonLine::add(std::string_view k, std::int64_t value)
{
    key(k);
    body_ += std::to_string(value);
    return *this;
}

JsonLine& JsonLine::add(std::string_view k, const ErrorCounts& counts)
{
    JsonLine inner;
    for (const auto& [kind, n] : counts) inner.add(kind, n);
    key(k);
    body_ += inner.str();
    return *this;
}

JsonLine& JsonLine::add_latencies(std::string_view k, Latencies& latencies)
{
    JsonLine inner;
    inner.add("p50", latencies.percentile(50))
        .add("p90", latencies.percentile(90))
        .add("p99", latencies.percentile(99))
        .add("max", latencies.max());
    key(k);
    body_ += inner.str();
    return *this;
}

OwnCpuShare own_cpu_share(double cpu_seconds, double phase_seconds)
{
    OwnCpuShare share;
    share.seconds = cpu_seconds;
    share.percent = phase_seconds > 0 ? cpu_seconds / phase_seconds * 100 : 0;
    share.saturated = phase_seconds >= 0.5 && share.percent > 90;
    return share;
}

Table& Table::row(std::string name, std::string value)
{
    rows_.emplace_back(std::move(name), std::move(value));
    return *this;
}

std::string Table::str() const
{
    std::size_t width = 0;
    for (const auto& [name, value] : rows_) width = std::max(width, name.size());
    std::string out = title_ + "\n";
    for (const auto& [name, value] : rows_) out += "  " + name + std::string(width - name.size() + 2, ' ') + value + "\n";
    return out;
}

}  // namespace tern::loadgen
