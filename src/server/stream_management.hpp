#pragma once

// XEP-0198 Stream Management for one c2s session as plain state: the counts of handled stanzas both ways
// (sequence numbers modulo 2^32) and the outbound stanzas the client has not acknowledged yet. No I/O, no
// clock: the Session feeds it and net/ decides when time is up.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xmpp/errors.hpp"
#include "xmpp/jid.hpp"

namespace tern::server {

// One serialized top-level element of outbound bytes, with the start-tag fields SM and CSI look at. The
// attribute values are raw (still escaped), which is enough to compare them.
struct OutboundStanza {
    std::string_view bytes;
    std::string_view name;
    std::string_view from;
    std::string_view type;
};

// Takes the first element off `rest` (serialized XML as tern writes it: elements, attributes, text, CDATA;
// no comments, PIs or doctype). Returns nullopt once `rest` is empty. Bytes that do not parse as an element
// are returned whole as one element with an empty name, so a count never loses a stanza.
std::optional<OutboundStanza> take_outbound_stanza(std::string_view& rest);

class StreamManagement {
public:
    StreamManagement() = default;
    // Sequence numbers that start elsewhere than at zero (they wrap around at 2^32).
    StreamManagement(std::uint32_t inbound, std::uint32_t acked) : inbound_(inbound), acked_(acked) {}

    bool enabled() const { return enabled_; }
    // Starts counting both ways. A non-empty id makes the session resumable for `resume_timeout`.
    void enable(std::string id, std::chrono::seconds resume_timeout);
    bool resumable() const { return !id_.empty(); }
    const std::string& id() const { return id_; }
    std::chrono::seconds resume_timeout() const { return resume_timeout_; }

    // Inbound: one more stanza from the client handled; h for <a/> and <resumed/>.
    void handled() { ++inbound_; }
    std::uint32_t inbound() const { return inbound_; }

    // Outbound: one stanza sent (or queued while the client is away); kept until acknowledged.
    void sent(std::string_view stanza);
    // The sequence number of the last stanza sent.
    std::uint32_t sent_count() const { return static_cast<std::uint32_t>(acked_ + sizes_.size() - head_); }
    // True if `h` acknowledges stanzas that were never sent (XEP-0198 handled-count-too-high).
    bool too_high(std::uint32_t h) const;
    // Applies the client's h (from <a/> or <resume/>): drops what it acknowledges (an h behind the last one
    // acknowledges nothing new). Must not be too_high().
    void acknowledge(std::uint32_t h);

    std::size_t unacked_count() const { return sizes_.size() - head_; }
    std::size_t unacked_bytes() const { return queue_.size() - head_bytes_; }
    // The unacknowledged stanzas, oldest first, back to back.
    std::string_view unacked() const { return std::string_view(queue_).substr(head_bytes_); }
    // Empties the queue (for retransmission elsewhere or for bouncing) and releases its memory.
    std::string take_unacked();

    // Whether to send <r/> now: stanzas went out since the last request and no answer is awaited. The
    // request is then considered sent.
    bool take_ack_request();
    // After a resumption: the retransmitted stanzas want an acknowledgement of their own.
    void resumed();

private:
    void release();

    bool enabled_ = false;
    std::string id_;
    std::chrono::seconds resume_timeout_{0};
    std::uint32_t inbound_ = 0;
    std::uint32_t acked_ = 0;  // the client's latest h
    // Unacknowledged stanzas: queue_ holds them back to back from head_bytes_, sizes_ their lengths from head_.
    std::string queue_;
    std::vector<std::uint32_t> sizes_;
    std::size_t head_ = 0;
    std::size_t head_bytes_ = 0;
    bool request_due_ = false;
    bool awaiting_ack_ = false;
};

// What becomes of the unacknowledged stanzas of a session that ends for good (RFC 6121 §8.5.3.2.1 as if
// the resource were unavailable; tern has no offline storage): each IQ request, and each message of type
// normal or chat, goes back to its sender as a service-unavailable error. Messages of other types and
// presence are dropped. Not re-routed to the account's other resources: a message sent to the bare JID
// has already reached them, and delivering it again would duplicate it.
struct Bounce {
    xmpp::Jid to;       // the original sender
    std::string stanza;  // the error reply
};
std::vector<Bounce> bounces(std::string_view unacked);

// An error reply with `condition` (its default type) to the sender of one outbound stanza, echoing an IQ's
// payload when `echo` (RFC 6120 §8.3.1); nullopt when the stanza does not parse or has no valid 'from'.
std::optional<Bounce> error_bounce(const OutboundStanza& stanza, xmpp::StanzaErrorCondition condition, bool echo);

}  // namespace tern::server
