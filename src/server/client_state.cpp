#include "server/client_state.hpp"

#include <algorithm>

namespace tern::server {

bool ClientState::hold(const Envelope& stanza)
{
    if (active_ || !stanza.is(StanzaKind::Presence)) return false;
    if (!stanza.type().empty() && stanza.type() != "unavailable") return false;
    const auto older = std::find_if(held_.begin(), held_.end(), [&](const Envelope& h) { return h.from() == stanza.from(); });
    if (older != held_.end()) {
        held_bytes_ -= older->bytes().size();
        held_.erase(older);
    }
    held_.push_back(stanza);
    held_bytes_ += stanza.bytes().size();
    return true;
}

Envelopes ClientState::take_held()
{
    held_bytes_ = 0;
    return std::exchange(held_, {});
}

}  // namespace tern::server
