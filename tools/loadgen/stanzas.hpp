#pragma once

// The stanzas the scenarios send, and the ids that let an answer find its request: a tag letter, a
// sequence number and the send time (steady_clock nanoseconds), so no table of requests is needed to
// measure latency. Pure (tested in tests/tools).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::loadgen {

struct Stamp {
    char tag = 0;
    std::uint64_t sequence = 0;
    std::int64_t sent_ns = 0;

    friend bool operator==(const Stamp&, const Stamp&) = default;
};

// "<tag><sequence>-<sent_ns>", e.g. "e12-123456789"; the tag is an ASCII letter.
std::string stamp_id(char tag, std::uint64_t sequence, std::int64_t sent_ns);
std::optional<Stamp> parse_stamp(std::string_view id);

// XEP-0215 request for the server's external services (of one type when service_type is not empty).
std::string extdisco_request(std::string_view domain, std::string_view service_type, std::string_view id);
// XEP-0215 request for fresh credentials of one service (host and type).
std::string extdisco_credentials_request(std::string_view domain, std::string_view host, std::string_view type,
                                         std::string_view id);
// XEP-0199 ping to the server.
std::string ping_request(std::string_view domain, std::string_view id);
// Availability presence without 'to': a broadcast, which the server also echoes to the sender.
std::string presence_broadcast(std::string_view id);
std::string chat_message(std::string_view to, std::string_view id, std::string_view body);

// The kinds of events of the mixed scenario and their shares: ~60% chat, ~20% ping, ~15% presence,
// ~5% extdisco.
enum class MixedEvent { Chat, Ping, Presence, Extdisco };
inline constexpr int mixed_event_kinds = 4;
// `u` uniform in [0, 1).
MixedEvent pick_mixed_event(double u);
std::string_view mixed_event_name(MixedEvent event);
char mixed_event_tag(MixedEvent event);
std::optional<MixedEvent> mixed_event_of_tag(char tag);

// How many events a schedule at `rate` per second has issued `elapsed_s` seconds after its start.
std::uint64_t events_due(double elapsed_s, double rate);

}  // namespace tern::loadgen
