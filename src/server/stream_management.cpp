#include "server/stream_management.hpp"

#include "xml/stanza.hpp"
#include "xmpp/errors.hpp"
#include "xmpp/ns.hpp"

namespace tern::server {

namespace {

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_name_end(char c)
{
    return is_space(c) || c == '>' || c == '/' || c == '=';
}

// Reads a start tag at bytes[pos] == '<'. On success pos is just past its '>' and `empty` tells whether it
// was `<x/>`; the attributes it has are reported through `attribute(name, raw_value)`.
template <class OnAttribute>
bool read_start_tag(std::string_view bytes, std::size_t& pos, std::string_view& name, bool& empty,
                    OnAttribute&& attribute)
{
    std::size_t i = pos + 1;
    const std::size_t name_start = i;
    while (i < bytes.size() && !is_name_end(bytes[i])) ++i;
    name = bytes.substr(name_start, i - name_start);
    if (name.empty()) return false;
    for (;;) {
        while (i < bytes.size() && is_space(bytes[i])) ++i;
        if (i >= bytes.size()) return false;
        if (bytes[i] == '>') {
            empty = false;
            pos = i + 1;
            return true;
        }
        if (bytes[i] == '/') {
            if (i + 1 >= bytes.size() || bytes[i + 1] != '>') return false;
            empty = true;
            pos = i + 2;
            return true;
        }
        const std::size_t attr_start = i;
        while (i < bytes.size() && !is_name_end(bytes[i])) ++i;
        const std::string_view attr_name = bytes.substr(attr_start, i - attr_start);
        while (i < bytes.size() && is_space(bytes[i])) ++i;
        if (attr_name.empty() || i >= bytes.size() || bytes[i] != '=') return false;
        ++i;
        while (i < bytes.size() && is_space(bytes[i])) ++i;
        if (i >= bytes.size() || (bytes[i] != '\'' && bytes[i] != '"')) return false;
        const char quote = bytes[i++];
        const std::size_t value_end = bytes.find(quote, i);
        if (value_end == std::string_view::npos) return false;
        attribute(attr_name, bytes.substr(i, value_end - i));
        i = value_end + 1;
    }
}

// The offset just past the element that starts at bytes[0], or npos.
std::size_t element_end(std::string_view bytes, OutboundStanza& stanza)
{
    std::size_t pos = 0;
    bool empty = false;
    const bool ok = read_start_tag(bytes, pos, stanza.name, empty, [&](std::string_view name, std::string_view value) {
        if (name == "from") stanza.from = value;
        else if (name == "type") stanza.type = value;
    });
    if (!ok) return std::string_view::npos;
    if (empty) return pos;

    std::size_t depth = 1;
    while (depth > 0) {
        pos = bytes.find('<', pos);
        if (pos == std::string_view::npos || pos + 1 >= bytes.size()) return std::string_view::npos;
        if (bytes[pos + 1] == '/') {
            pos = bytes.find('>', pos);
            if (pos == std::string_view::npos) return std::string_view::npos;
            ++pos;
            --depth;
        } else if (bytes.substr(pos).starts_with("<![CDATA[")) {
            pos = bytes.find("]]>", pos);
            if (pos == std::string_view::npos) return std::string_view::npos;
            pos += 3;
        } else {
            std::string_view child;
            bool child_empty = false;
            if (!read_start_tag(bytes, pos, child, child_empty, [](std::string_view, std::string_view) {}))
                return std::string_view::npos;
            if (!child_empty) ++depth;
        }
    }
    return pos;
}

}  // namespace

std::optional<OutboundStanza> take_outbound_stanza(std::string_view& rest)
{
    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
    if (rest.empty()) return std::nullopt;
    OutboundStanza stanza;
    const std::size_t end = rest.front() == '<' ? element_end(rest, stanza) : std::string_view::npos;
    if (end == std::string_view::npos) {
        stanza = OutboundStanza{rest, {}, {}, {}};
        rest = {};
        return stanza;
    }
    stanza.bytes = rest.substr(0, end);
    rest.remove_prefix(end);
    return stanza;
}

//---------------------------------------------------------------------------------------------------------

void StreamManagement::enable(std::string id, std::chrono::seconds resume_timeout)
{
    enabled_ = true;
    id_ = std::move(id);
    resume_timeout_ = resume_timeout;
}

void StreamManagement::sent(std::string_view stanza)
{
    queue_ += stanza;
    sizes_.push_back(static_cast<std::uint32_t>(stanza.size()));
    if (!awaiting_ack_) request_due_ = true;
}

namespace {

// Serial number arithmetic (RFC 1982) on the 2^32 sequence space: h may have wrapped around past zero, and
// an h less than half the space behind the last one is an old one.
bool behind(std::uint32_t h, std::uint32_t last)
{
    return h != last && static_cast<std::uint32_t>(last - h) < 0x80000000u;
}

}  // namespace

bool StreamManagement::too_high(std::uint32_t h) const
{
    return !behind(h, acked_) && static_cast<std::uint32_t>(h - acked_) > unacked_count();
}

void StreamManagement::acknowledge(std::uint32_t h)
{
    awaiting_ack_ = false;
    if (behind(h, acked_)) return;  // acknowledges nothing new
    const std::size_t count = static_cast<std::uint32_t>(h - acked_);
    for (std::size_t i = 0; i < count; ++i) head_bytes_ += sizes_[head_ + i];
    head_ += count;
    acked_ = h;
    if (head_ == sizes_.size()) {
        release();
        return;
    }
    request_due_ = true;  // some are still unacknowledged: ask again rather than keep them while idle
    if (head_bytes_ > queue_.size() / 2) {
        queue_.erase(0, head_bytes_);
        sizes_.erase(sizes_.begin(), sizes_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
        head_bytes_ = 0;
    }
}

std::string StreamManagement::take_unacked()
{
    std::string out(unacked());
    acked_ = sent_count();
    release();
    return out;
}

void StreamManagement::release()
{
    std::string().swap(queue_);
    std::vector<std::uint32_t>().swap(sizes_);
    head_ = 0;
    head_bytes_ = 0;
    request_due_ = false;
}

bool StreamManagement::take_ack_request()
{
    if (!request_due_ || awaiting_ack_) return false;
    request_due_ = false;
    awaiting_ack_ = true;
    return true;
}

void StreamManagement::resumed()
{
    awaiting_ack_ = false;
    request_due_ = unacked_count() > 0;
}

//---------------------------------------------------------------------------------------------------------

std::optional<Bounce> error_bounce(const OutboundStanza& piece, xmpp::StanzaErrorCondition condition, bool echo)
{
    xml::NamespaceScope scope;
    scope.bind("", xmpp::ns::client);
    auto stanza = xml::Stanza::parse(piece.bytes, scope);
    if (!stanza) return std::nullopt;
    auto sender = xmpp::Jid::parse(stanza->from());
    if (!sender) return std::nullopt;
    Bounce bounce{std::move(*sender), {}};
    const auto error = xmpp::StanzaError::of(condition);
    if (echo)
        xmpp::append_error_reply(bounce.stanza, *stanza, error);
    else
        xmpp::append_error_reply(bounce.stanza, {stanza->name(), stanza->id(), stanza->to(), stanza->from(), {}}, error);
    return bounce;
}

std::vector<Bounce> bounces(std::string_view unacked)
{
    std::vector<Bounce> out;
    while (auto piece = take_outbound_stanza(unacked)) {
        const bool message = piece->name == "message";
        const bool request = piece->name == "iq" && (piece->type == "get" || piece->type == "set");
        if (message && !(piece->type.empty() || piece->type == "normal" || piece->type == "chat")) continue;
        if (!message && !request) continue;
        if (auto bounce = error_bounce(*piece, xmpp::StanzaErrorCondition::ServiceUnavailable, true))
            out.push_back(std::move(*bounce));
    }
    return out;
}

}  // namespace tern::server
