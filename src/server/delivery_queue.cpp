#include "server/delivery_queue.hpp"

namespace tern::server {

std::optional<Bounce> refusal(const Envelope& stanza, xmpp::StanzaErrorCondition condition)
{
    auto sender = xmpp::Jid::parse(stanza.from());
    if (!sender) return std::nullopt;
    auto reply = error_reply(stanza, xmpp::StanzaError::of(condition), false);
    if (!reply) return std::nullopt;
    return Bounce{std::move(*sender), std::move(*reply)};
}

}  // namespace tern::server
