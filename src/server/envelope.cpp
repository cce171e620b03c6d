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

Envelope Envelope::of(const xml::Stanza& stanza)
{
    const std::string_view name = stanza.name();
    auto parts = std::make_shared<Parts>();
    parts->fields.kind = kind_of(stanza);
    parts->fields.to = stanza.to();
    parts->fields.from = stanza.from();
    parts->fields.type = stanza.type();
    parts->fields.id = stanza.id();
    stanza.serialize_to(parts->bytes);
    const bool answerable_iq = name == "iq" && parts->fields.type != "result" && parts->fields.type != "error";
    if (answerable_iq) {
        if (const xml::Element child = stanza.root().first_child_element()) child.serialize_to(parts->payload);
    }
    return Envelope(std::move(parts));
}

Envelope Envelope::make(Fields fields, std::string bytes, std::string request_payload)
{
    return Envelope(std::make_shared<const Parts>(Parts{std::move(fields), std::move(bytes), std::move(request_payload)}));
}

std::optional<Envelope> error_reply(const xml::Stanza& original, const xmpp::StanzaError& error)
{
    const std::string_view type = original.type();
    if (type == "error" || (original.name() == "iq" && type == "result")) return std::nullopt;
    std::string bytes;
    xmpp::append_error_reply(bytes, original, error);
    return Envelope::make({kind_of(original), std::string(original.from()), std::string(original.to()), "error", std::string(original.id())},
                          std::move(bytes));
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
