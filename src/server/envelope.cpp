#include "server/envelope.hpp"

#include <cstring>

#include <pugixml.hpp>

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
    std::uint32_t* end = parts.ends;
    *end = static_cast<std::uint32_t>(parts.text.size());
    for (const auto f : fields) {
        parts.text.append(f.data(), f.size());
        *++end = static_cast<std::uint32_t>(parts.text.size());
    }
}

Envelope Envelope::of(const xml::Stanza& stanza)
{
    // One pass over the attributes (a stanza's are unprefixed) rather than a lookup per field.
    std::string_view to, from, type, id;
    const pugi::xml_node root = stanza.root().node();
    for (pugi::xml_attribute a = root.first_attribute(); a; a = a.next_attribute()) {
        const char* name = a.name();
        std::string_view* field = nullptr;
        switch (name[0]) {
        case 't': field = std::strcmp(name, "to") == 0 ? &to : std::strcmp(name, "type") == 0 ? &type : nullptr; break;
        case 'f': field = std::strcmp(name, "from") == 0 ? &from : nullptr; break;
        case 'i': field = std::strcmp(name, "id") == 0 ? &id : nullptr; break;
        default: break;
        }
        if (field) *field = a.value();
    }
    // Serialized into a scratch buffer first, so the envelope's text is allocated once, at its size.
    thread_local std::string scratch;
    scratch.clear();
    stanza.serialize_to(scratch);
    auto parts = std::make_shared<Parts>();
    const std::string_view name = root.name();  // unprefixed in a stanza, as the parser normalizes it
    parts->kind = name == "iq" ? StanzaKind::Iq : name == "presence" ? StanzaKind::Presence : StanzaKind::Message;
    parts->text.reserve(scratch.size() + to.size() + from.size() + type.size() + id.size());
    parts->text = scratch;
    seal(*parts, {to, from, type, id});
    if (scratch.capacity() > 64 * 1024) std::string().swap(scratch);  // a huge stanza does not stay cached
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

std::optional<Envelope> error_reply(const Envelope& original, const xmpp::StanzaError& error, bool echo)
{
    // RFC 6120 §8.3.1: never answer an error with an error, nor an IQ result.
    if (original.is_error() || (original.is(StanzaKind::Iq) && original.type() == "result")) return std::nullopt;
    std::string bytes;
    xmpp::append_error_reply(bytes, {original.name(), original.id(), original.to(), original.from(),
                                     echo ? std::string_view(original.request_payload()) : std::string_view()},
                             error);
    return Envelope::make({original.kind(), original.from(), original.to(), "error", original.id()}, std::move(bytes));
}

}  // namespace tern::server
