#include "server/stream_management.hpp"

#include "xmpp/errors.hpp"

namespace tern::server {

void StreamManagement::enable(std::string id, std::chrono::seconds resume_timeout)
{
    enabled_ = true;
    id_ = std::move(id);
    resume_timeout_ = resume_timeout;
}

void StreamManagement::sent(Envelope stanza, std::chrono::system_clock::time_point now)
{
    unacked_bytes_ += stanza.bytes().size();
    queue_.push_back({std::move(stanza), now});
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
    for (std::size_t i = 0; i < count; ++i) unacked_bytes_ -= queue_[head_ + i].stanza.bytes().size();
    head_ += count;
    acked_ = h;
    if (head_ == queue_.size()) {
        release();
        return;
    }
    request_due_ = true;  // some are still unacknowledged: ask again rather than keep them while idle
    if (head_ > queue_.size() / 2) {
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
}

std::vector<Unacked> StreamManagement::take_unacked()
{
    std::vector<Unacked> out(std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(head_)),
                             std::make_move_iterator(queue_.end()));
    acked_ = sent_count();
    release();
    return out;
}

void StreamManagement::release()
{
    std::vector<Unacked>().swap(queue_);
    head_ = 0;
    unacked_bytes_ = 0;
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

std::optional<Bounce> bounce(const Envelope& stanza)
{
    if (!stanza.is_chat_or_normal() && !stanza.is_request()) return std::nullopt;
    auto sender = xmpp::Jid::parse(stanza.from());
    if (!sender) return std::nullopt;
    auto reply = error_reply(stanza, xmpp::StanzaError::of(xmpp::StanzaErrorCondition::ServiceUnavailable));
    if (!reply) return std::nullopt;
    return Bounce{std::move(*sender), std::move(*reply)};
}

std::vector<Bounce> bounces(const std::vector<Unacked>& unacked)
{
    std::vector<Bounce> out;
    for (const auto& u : unacked)
        if (auto b = bounce(u.stanza)) out.push_back(std::move(*b));
    return out;
}

}  // namespace tern::server
