#pragma once

// The policy for the queues other sessions fill (issue 12): a session's outbox and XEP-0198 queue, the
// deliveries posted to its worker, the stanzas waiting for a resumption. Each has a bound in bytes and in
// stanzas; a stanza that does not fit is refused and bounced to its sender, so a full queue costs whoever
// fills it and never disconnects the recipient. Only a recipient whose outbox stays full, because it reads
// nothing at all, is disconnected, after a grace period. No I/O, no clock of its own.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "server/stream_management.hpp"
#include "xmpp/errors.hpp"

namespace tern::server {

struct QueueBound {
    std::size_t max_bytes = 0;    // 0: no bound
    std::size_t max_stanzas = 0;  // 0: no bound

    // Whether a stanza of `bytes` fits behind `queued_stanzas` stanzas of `queued_bytes`. An empty queue
    // takes any one stanza, so a stanza larger than the bound still gets through on its own.
    bool admits(std::size_t queued_bytes, std::size_t queued_stanzas, std::size_t bytes) const
    {
        if (queued_stanzas == 0 && queued_bytes == 0) return true;
        if (max_stanzas != 0 && queued_stanzas + 1 > max_stanzas) return false;
        return max_bytes == 0 || queued_bytes + bytes <= max_bytes;
    }
};

// Tells a client that is slower than its senders (its outbox fills, drains, fills again) from one that
// reads nothing: the outbox has refused a delivery and has not drained to half its bound since.
class OutboxStall {
public:
    using Clock = std::chrono::steady_clock;

    // A delivery was refused at `now`: the stall starts unless it already has.
    void refused(Clock::time_point now)
    {
        if (!since_) since_ = now;
    }
    // The outbox holds `queued_bytes` of a bound of `max_bytes`: half empty ends the stall.
    void queued(std::size_t queued_bytes, std::size_t max_bytes)
    {
        if (since_ && queued_bytes <= max_bytes / 2) since_.reset();
    }
    bool stalled() const { return since_.has_value(); }
    // When the client is to be disconnected, while stalled.
    std::optional<Clock::time_point> deadline(std::chrono::seconds timeout) const
    {
        if (!since_) return std::nullopt;
        return *since_ + timeout;
    }

private:
    std::optional<Clock::time_point> since_;
};

// RFC 6120 §8.3: the error replies owed to the senders of serialized stanzas (back to back) that could not
// be queued, each carrying `condition` with its default type (resource-constraint: wait). Errors and IQ
// results are never answered; stanzas without a parseable 'from' have nobody to go back to. The original
// payload is not echoed (§8.3.1 allows it, and a flood's payload is what does not fit).
std::vector<Bounce> refusals(std::string_view stanzas, xmpp::StanzaErrorCondition condition);

}  // namespace tern::server
