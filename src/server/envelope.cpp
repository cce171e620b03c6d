#include "server/envelope.hpp"

namespace tern::server {

std::string_view to_string(StanzaKind kind)
{
    switch (kind) {
    case StanzaKind::Message: return "message";
    case StanzaKind::Presence: return "presence";
    case StanzaKind::Iq: return "iq";
    }
    return "message";
}

StanzaKind kind_of(const xml::Stanza& stanza)
{
    const std::string_view name = stanza.name();
    return name == "iq" ? StanzaKind::Iq : name == "presence" ? StanzaKind::Presence : StanzaKind::Message;
}

void Envelope::seal(Parts& parts, std::initializer_list<std::string_view> fields)
{
    std::size_t size = parts.text.size();
    for (const auto f : fields) size += f.size();
    parts.text.reserve(size);
    parts.ends[0] = static_cast<std::uint32_t>(parts.text.size());
    std::size_t i = 1;
    for (const auto f : fields) {
        parts.text += f;
        parts.ends[i++] = static_cast<std::uint32_t>(parts.text.size());
    }
}

Envelope Envelope::of(const xml::Stanza& stanza)
{
    auto parts = std::make_shared<Parts>();
    parts->kind = kind_of(stanza);
    stanza.serialize_to(parts->text);
    const std::string_view type = stanza.type();
    seal(*parts, {stanza.to(), stanza.from(), type, stanza.id()});
    const bool answerable_iq = parts->kind == StanzaKind::Iq && type != "result" && type != "error";
    if (answerable_iq) {
        if (const xml::Element child = stanza.root().first_child_element()) child.serialize_to(parts->payload);
    }
    return Envelope(std::move(parts));
}

Envelope Envelope::make(Fields fields, std::string bytes, std::string request_payload)
{
    auto parts = std::make_shared<Parts>();
    parts->kind = fields.kind;
    parts->text = std::move(bytes);
    seal(*parts, {fields.to, fields.from, fields.type, fields.id});
    parts->payload = std::move(request_payload);
    return Envelope(std::move(parts));
}

std::optional<Envelope> error_reply(const xml::Stanza& original, const xmpp::StanzaError& error)
{
    const std::string_view type = original.type();
    if (type == "error" || (original.name() == "iq" && type == "result")) return std::nullopt;
    std::string bytes;
    xmpp::append_error_reply(bytes, original, error);
    return Envelope::make({kind_of(original), original.from(), original.to(), "error", original.id()}, std::move(bytes));
}

std::optional<Envelope> error_reply(const Envelope& original, const xmpp::StanzaError& error)
{
    // RFC 6120 §8.3.1: never answer an error with an error, nor an IQ result.
    if (original.is_error() || (original.is(StanzaKind::Iq) && original.type() == "result")) return std::nullopt;
    std::string bytes;
    xmpp::append_error_reply(bytes, {original.name(), original.id(), original.to(), original.from(),
                                     original.request_payload()},
                             error);
    return Envelope::make({original.kind(), original.from(), original.to(), "error", original.id()}, std::move(bytes));
}

}  // namespace tern::server
