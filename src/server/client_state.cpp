#include "server/client_state.hpp"

#include <algorithm>

namespace tern::server {

bool ClientState::hold(const OutboundStanza& stanza)
{
    if (active_ || stanza.name != "presence") return false;
    if (!stanza.type.empty() && stanza.type != "unavailable") return false;
    const auto older = std::find_if(held_.begin(), held_.end(), [&](const Held& h) { return h.from == stanza.from; });
    if (older != held_.end()) {
        held_bytes_ -= older->bytes.size();
        held_.erase(older);
    }
    held_.push_back({std::string(stanza.from), std::string(stanza.bytes)});
    held_bytes_ += stanza.bytes.size();
    return true;
}

std::vector<std::string> ClientState::take_held()
{
    std::vector<std::string> out;
    out.reserve(held_.size());
    for (auto& held : held_) out.push_back(std::move(held.bytes));
    std::vector<Held>().swap(held_);
    held_bytes_ = 0;
    return out;
}

}  // namespace tern::server
