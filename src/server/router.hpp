#pragma once

// Where a stanza from a bound session goes (RFC 6120 §10, RFC 6121 §8): to a local session, to the
// server's own handlers, or back to the sender as an error. Runs on the sender's worker thread; delivery
// to other sessions goes through their ClientHandle, which hands it to their own worker.
#include <memory>
#include <string>

#include "server/iq_dispatcher.hpp"
#include "server/session_config.hpp"
#include "server/session_registry.hpp"
#include "xml/stanza.hpp"
#include "xmpp/jid.hpp"

namespace tern::server {

// Everything a routing decision may need besides the stanza. Replies and errors for the sender are
// appended to `reply` (the sender's own output).
struct RouteContext {
    const Requester& sender;  // its JID is the stanza's stamped 'from'
    const SessionConfig& config;
    const IqDispatcher& iq;
    std::chrono::system_clock::time_point now;
    std::string& reply;
};

class Router {
public:
    explicit Router(SessionRegistry& registry) : registry_(registry) {}

    void route(xml::Stanza&& stanza, const RouteContext& context);

private:
    void to_server(xml::Stanza&& stanza, Target target, const RouteContext& context);
    void to_account(xml::Stanza&& stanza, const xmpp::Jid& bare, const RouteContext& context);
    void to_resource(xml::Stanza&& stanza, const xmpp::Jid& full, const RouteContext& context);

    SessionRegistry& registry_;
};

}  // namespace tern::server
