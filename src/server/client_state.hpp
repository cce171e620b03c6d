#pragma once

// XEP-0352 Client State Indication for one session: while the client says it is inactive, availability
// presence for it is held back, only the latest per sender, and goes out (in arrival order) before the
// next stanza that is not held, or when the client becomes active again. Pure state, no I/O.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "server/stream_management.hpp"

namespace tern::server {

class ClientState {
public:
    bool active() const { return active_; }
    void set_active(bool active) { active_ = active; }

    // Keeps the stanza back if the client is inactive and it is availability presence (no type, or
    // 'unavailable'); a newer one from the same sender replaces the older. Subscription and error presence
    // are never held: they are not superseded by later availability.
    bool hold(const OutboundStanza& stanza);

    bool holding() const { return !held_.empty(); }
    std::size_t held_bytes() const { return held_bytes_; }
    std::size_t held_count() const { return held_.size(); }
    // The held stanzas in arrival order; releases their memory.
    std::vector<std::string> take_held();

private:
    struct Held {
        std::string from;  // raw attribute value
        std::string bytes;
    };
    bool active_ = true;
    std::vector<Held> held_;
    std::size_t held_bytes_ = 0;
};

}  // namespace tern::server
