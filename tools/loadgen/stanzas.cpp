#include "loadgen/stanzas.hpp"

#include <charconv>
#include <cmath>

namespace tern::loadgen {

std::string stamp_id(char tag, std::uint64_t sequence, std::int64_t sent_ns)
{
    std::string id(1, tag);
    id += std::to_string(sequence);
    id += '-';
    id += std::to_string(sent_ns);
    return id;
}

std::optional<Stamp> parse_stamp(std::string_view id)
{
    const auto dash = id.find('-');
    if (id.size() < 4 || dash == std::string_view::npos || dash < 2) return std::nullopt;
    if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z'))) return std::nullopt;
    Stamp stamp;
    stamp.tag = id[0];
    const char* sequence_end = id.data() + dash;
    if (std::from_chars(id.data() + 1, sequence_end, stamp.sequence).ptr != sequence_end) return std::nullopt;
    const char* end = id.data() + id.size();
    const auto [ptr, ec] = std::from_chars(sequence_end + 1, end, stamp.sent_ns);
    if (ec != std::errc{} || ptr != end || sequence_end + 1 == end || stamp.sent_ns < 0) return std::nullopt;
    return stamp;
}

std::string extdisco_request(std::string_view domain, std::string_view service_type, std::string_view id)
{
    std::string iq = "<iq type='get' id='";
    iq += id;
    iq += "' to='";
    iq += domain;
    iq += "'><services xmlns='urn:xmpp:extdisco:2'";
    if (!service_type.empty()) {
        iq += " type='";
        iq += service_type;
        iq += '\'';
    }
    iq += "/></iq>";
    return iq;
}

std::string extdisco_credentials_request(std::string_view domain, std::string_view host, std::string_view type,
                                         std::string_view id)
{
    return "<iq type='get' id='" + std::string(id) + "' to='" + std::string(domain) +
           "'><credentials xmlns='urn:xmpp:extdisco:2'><service host='" + std::string(host) + "' type='" +
           std::string(type) + "'/></credentials></iq>";
}

std::string ping_request(std::string_view domain, std::string_view id)
{
    return "<iq type='get' id='" + std::string(id) + "' to='" + std::string(domain) + "'><ping xmlns='urn:xmpp:ping'/></iq>";
}

std::string presence_broadcast(std::string_view id)
{
    return "<presence id='" + std::string(id) + "'><status>load</status></presence>";
}

std::string chat_message(std::string_view to, std::string_view id, std::string_view body)
{
    return "<message type='chat' to='" + std::string(to) + "' id='" + std::string(id) + "'><body>" + std::string(body) +
           "</body></message>";
}

MixedEvent pick_mixed_event(double u)
{
    if (u < 0.60) return MixedEvent::Chat;
    if (u < 0.80) return MixedEvent::Ping;
    if (u < 0.95) return MixedEvent::Presence;
    return MixedEvent::Extdisco;
}

std::string_view mixed_event_name(MixedEvent event)
{
    switch (event) {
    case MixedEvent::Chat: return "chat";
    case MixedEvent::Ping: return "ping";
    case MixedEvent::Presence: return "presence";
    case MixedEvent::Extdisco: return "extdisco";
    }
    return "?";
}

char mixed_event_tag(MixedEvent event)
{
    switch (event) {
    case MixedEvent::Chat: return 'c';
    case MixedEvent::Ping: return 'p';
    case MixedEvent::Presence: return 'b';
    case MixedEvent::Extdisco: return 'e';
    }
    return '?';
}

std::optional<MixedEvent> mixed_event_of_tag(char tag)
{
    for (const MixedEvent e : {MixedEvent::Chat, MixedEvent::Ping, MixedEvent::Presence, MixedEvent::Extdisco})
        if (mixed_event_tag(e) == tag) return e;
    return std::nullopt;
}

std::uint64_t events_due(double elapsed_s, double rate)
{
    if (!(elapsed_s > 0) || !(rate > 0)) return 0;
    return static_cast<std::uint64_t>(std::floor(elapsed_s * rate));
}

}  // namespace tern::loadgen
