#pragma once

// Where a stanza from a bound session goes (RFC 6120 §10, RFC 6121 §8): to a local session, to the
// server's own handlers, or back to the sender as an error. Runs on the sender's worker thread; delivery
// to other sessions goes through their ClientHandle, which hands it to their own worker.
#include <memory>
#include <string>

#include "server/session_config.hpp"
#include "server/session_registry.hpp"
#include "xml/stanza.hpp"
#include "xmpp/jid.hpp"

namespace tern::server {

class Router {
public:
    explicit Router(SessionRegistry& registry) : registry_(registry) {}

    // `stanza` has its 'from' stamped with `sender`. Replies and errors for the sender are appended to
    // `reply` (the sender's own output).
    void route(xml::Stanza&& stanza, const xmpp::Jid& sender, const SessionConfig& config, std::string& reply);

private:
    void to_server(xml::Stanza&& stanza, std::string& reply);
    void to_account(xml::Stanza&& stanza, const xmpp::Jid& bare, std::string& reply);
    void to_resource(xml::Stanza&& stanza, const xmpp::Jid& full, std::string& reply);

    SessionRegistry& registry_;
};

}  // namespace tern::server
