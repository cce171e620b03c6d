#pragma once

// XEP-0198 Stream Management for one c2s session as plain state: the counts of handled stanzas both ways
// (sequence numbers modulo 2^32) and the outbound stanzas the client has not acknowledged yet, kept as
// envelopes with the time each was first queued (so a resent one can carry an XEP-0203 delay stamp). No
// I/O, no clock: the Session feeds it and net/ decides when time is up.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/envelope.hpp"
#include "xmpp/jid.hpp"

namespace tern::server {

// An outbound stanza the client has not acknowledged yet.
struct Unacked {
    Envelope stanza;
    std::chrono::system_clock::time_point queued;  // when it was first sent or queued for this session
};

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

    // Outbound: one stanza sent (or queued while the client is away) at `now`; kept until acknowledged.
    void sent(Envelope stanza, std::chrono::system_clock::time_point now);
    // The sequence number of the last stanza sent.
    std::uint32_t sent_count() const { return static_cast<std::uint32_t>(acked_ + queue_.size() - head_); }
    // True if `h` acknowledges stanzas that were never sent (XEP-0198 handled-count-too-high).
    bool too_high(std::uint32_t h) const;
    // Applies the client's h (from <a/> or <resume/>): drops what it acknowledges (an h behind the last one
    // acknowledges nothing new). Must not be too_high().
    void acknowledge(std::uint32_t h);

    std::size_t unacked_count() const { return queue_.size() - head_; }
    std::size_t unacked_bytes() const { return unacked_bytes_; }
    // The unacknowledged stanzas, oldest first.
    template <class F>
    void for_each_unacked(F&& f) const
    {
        for (std::size_t i = head_; i < queue_.size(); ++i) f(queue_[i]);
    }
    // Empties the queue (for bouncing) and releases its memory.
    std::vector<Unacked> take_unacked();

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
    // Unacknowledged stanzas: queue_ from head_ on (the acknowledged front is erased in batches).
    std::vector<Unacked> queue_;
    std::size_t head_ = 0;
    std::size_t unacked_bytes_ = 0;
    bool request_due_ = false;
    bool awaiting_ack_ = false;
};

// What becomes of the unacknowledged stanzas of a session that ends for good (RFC 6121 §8.5.3.2.1 as if
// the resource were unavailable; tern has no offline storage): each IQ request, and each message of type
// normal or chat, goes back to its sender as a service-unavailable error. Messages of other types and
// presence are dropped. Not re-routed to the account's other resources: a message sent to the bare JID
// has already reached them, and delivering it again would duplicate it.
struct Bounce {
    xmpp::Jid to;     // the original sender
    Envelope stanza;  // the error reply
};
std::vector<Bounce> bounces(const std::vector<Unacked>& unacked);
// The same for one stanza (e.g. one that reached a session that has just ended); nullopt: dropped.
std::optional<Bounce> bounce(const Envelope& stanza);

}  // namespace tern::server
