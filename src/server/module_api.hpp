#pragma once

// The narrow interface between the server and its feature modules. A module registers IQ handlers in the
// dispatcher table at start-up; a handler gets the request and who sent it, writes the children of its
// result with an xml::Writer, or returns a stanza error. It never sees a socket, a TLS object, the router
// or another session.
//
// Handlers are synchronous on purpose: every IQ a module answers today is computed in microseconds (an
// HMAC, a lookup), and answering inline keeps a session's stanzas in order without a coroutine frame per IQ.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.hpp"
#include "xml/stanza.hpp"
#include "xml/writer.hpp"
#include "xmpp/errors.hpp"
#include "xmpp/jid.hpp"

namespace tern::server {

// What modules remember about one bound session between its IQs (owned by the session, touched only on
// its worker thread). Each module keeps its own part here.
struct SessionState {
    struct ExtDisco {
        bool requested_all = false;        // asked for <services/> without a type filter
        std::vector<std::string> types;    // service types it asked for
        std::chrono::system_clock::time_point refresh_at{};  // push fresh credentials then (0: nothing given)
    } extdisco;
};

// The bound session an IQ comes from, as a handler may use it.
struct Requester {
    const xmpp::Jid& jid;       // full JID
    std::string_view address;   // IP address as the server sees it (the PROXY-protocol source when enabled)
    std::uint16_t port = 0;
    SessionState* state = nullptr;  // null when there is no bound session (unit tests of stateless handlers)
};

// Where an IQ was addressed: the server's domain, or the requester's own account (its bare JID, or no 'to').
enum class Target : unsigned { Server = 1, Account = 2, Both = 3 };

constexpr bool includes(Target set, Target one)
{
    return (static_cast<unsigned>(set) & static_cast<unsigned>(one)) != 0;
}

struct IqRequest {
    const xml::Stanza& stanza;
    xml::Element payload;  // the single child element
    const Requester& from;
    Target target;         // Server or Account
    std::chrono::system_clock::time_point now;
};

using IqResult = expected<void, xmpp::StanzaError>;
// Writes the children of <iq type='result'> (nothing for an empty result) or returns the error.
using IqHandler = std::function<IqResult(const IqRequest& request, xml::Writer& reply)>;
// Whether the feature is offered to this requester (disco lists it only then); default: to everyone.
using Visibility = std::function<bool(const Requester& requester)>;

// A module's part in a bound session's life besides answering IQs. Each appends stanzas to push to the
// session to `out`; the server calls them on the session's worker.
struct SessionHooks {
    // After a configuration reload, with the dispatcher built from the new configuration.
    std::function<void(const Requester& session, std::string& out)> on_reload;
    // About once a minute (e.g. to refresh credentials before they expire).
    std::function<void(const Requester& session, std::chrono::system_clock::time_point now, std::string& out)> on_tick;
};

}  // namespace tern::server
