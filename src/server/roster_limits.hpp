#pragma once

// What one account's roster may hold (RFC 6121 §2.3.3 and §3.1.3: "a server-configured limit"), on every
// path that adds an item: a roster set, an outbound subscription request or approval, and an inbound
// request kept aside until answered. A pending inbound request is kept for replay at each initial
// presence, cut down to what is worth seeing again (the XEP-0172 nickname first, then the status, then
// other payloads, each whole or not at all) within a few KiB, and within a total for the account.
#include <cstddef>
#include <algorithm>
#include <string>
#include <string_view>

#include "xml/stanza.hpp"

namespace tern::server {

struct RosterLimits {
    std::size_t max_items = 1000;
    std::size_t max_request_bytes = 4096;             // one stored request, as replayed
    std::size_t max_request_bytes_per_account = 256 * 1024;  // all of an account's stored requests

    // Whether a roster of `items` may take one more.
    bool may_add(std::size_t items) const { return items < max_items; }
    // How many bytes a new request may be stored in when the account's stored requests take `stored`
    // bytes already (0: keep none of it; the replay is then a plain subscribe).
    std::size_t request_room(std::size_t stored) const
    {
        if (stored >= max_request_bytes_per_account) return 0;
        return std::min(max_request_bytes, max_request_bytes_per_account - stored);
    }
};

// The default limits (not configurable yet).
inline constexpr RosterLimits roster_limits{};

// The subscription request as it is to be stored: the presence element with its attributes and as many of
// its children as fit in `max_bytes` (the nickname, then the status, then the rest in order). Empty when
// not even the bare element fits.
std::string stored_request(const xml::Stanza& request, std::size_t max_bytes);
// The same for a serialized request (jabber:client, as routed); empty when it does not parse.
std::string stored_request(std::string_view serialized, std::size_t max_bytes);

}  // namespace tern::server
