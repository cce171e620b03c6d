#pragma once

// A routed stanza as everything after the parser sees it: the addressing fields routing, XEP-0198,
// XEP-0352 and the hooks need, and the serialized bytes, made once. Immutable and shared: handing one to
// several recipients or queues copies a pointer, never the bytes, and nothing re-parses it to learn where
// it goes.
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xml/stanza.hpp"
#include "xmpp/errors.hpp"

namespace tern::server {

enum class StanzaKind : unsigned char { Message, Presence, Iq };

std::string_view to_string(StanzaKind kind);  // "message", "presence", "iq"
StanzaKind kind_of(const xml::Stanza& stanza);

class Envelope {
public:
    struct Fields {
        StanzaKind kind = StanzaKind::Message;
        std::string_view to;  // attribute values as in the stanza (unescaped), empty when absent
        std::string_view from;
        std::string_view type;
        std::string_view id;
    };

    // Serializes `stanza` (a message, presence or iq) once; an IQ that may be answered (not a result or an
    // error) also keeps its child, echoed in an error reply (RFC 6120 §8.3.1).
    static Envelope of(const xml::Stanza& stanza);
    // A stanza the server wrote itself: `bytes` is one serialized element matching `fields`.
    static Envelope make(Fields fields, std::string bytes, std::string request_payload = {});

    StanzaKind kind() const { return parts_->kind; }
    std::string_view name() const { return to_string(kind()); }
    std::string_view to() const { return field(0); }
    std::string_view from() const { return field(1); }
    std::string_view type() const { return field(2); }
    std::string_view id() const { return field(3); }
    std::string_view bytes() const { return std::string_view(parts_->text).substr(0, parts_->ends[0]); }
    // The child of an IQ that is not a result or an error, serialized; empty otherwise.
    const std::string& request_payload() const { return parts_->payload; }

    bool is(StanzaKind kind) const { return this->kind() == kind; }
    bool is_request() const { return is(StanzaKind::Iq) && (type() == "get" || type() == "set"); }
    bool is_error() const { return type() == "error"; }
    // Message types RFC 6121 §8.5 answers with an error when nobody takes them (no type means normal).
    bool is_chat_or_normal() const
    {
        return is(StanzaKind::Message) && (type().empty() || type() == "normal" || type() == "chat");
    }
    // Two envelopes of the same stanza share their bytes.
    bool same_stanza(const Envelope& other) const { return parts_ == other.parts_; }

private:
    // One allocation for the fields and one for the text: the bytes, then to, from, type and id back to
    // back; ends[i] is where the i-th piece ends.
    struct Parts {
        StanzaKind kind = StanzaKind::Message;
        std::uint32_t ends[5] = {};
        std::string text;
        std::string payload;
    };
    explicit Envelope(std::shared_ptr<const Parts> parts) : parts_(std::move(parts)) {}
    // Appends the fields after the bytes already in parts.text.
    static void seal(Parts& parts, std::initializer_list<std::string_view> fields);
    std::string_view field(std::size_t i) const
    {
        return std::string_view(parts_->text).substr(parts_->ends[i], parts_->ends[i + 1] - parts_->ends[i]);
    }
    std::shared_ptr<const Parts> parts_;
};

// Stanzas for one session, in order.
using Envelopes = std::vector<Envelope>;

// The error reply to `original` (RFC 6120 §8.3.1), to its sender, built from the envelope alone; nothing
// when it must not be answered (an error, or an IQ result). `echo`: with an IQ's payload (§8.3.1 allows it).
std::optional<Envelope> error_reply(const Envelope& original, const xmpp::StanzaError& error, bool echo = true);
// The same for a parsed stanza that has no envelope yet.
std::optional<Envelope> error_reply(const xml::Stanza& original, const xmpp::StanzaError& error);

}  // namespace tern::server
