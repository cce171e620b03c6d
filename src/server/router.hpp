#pragma once

// Where a stanza from a bound session goes (RFC 6120 §10, RFC 6121 §8): to a local session, to the
// server's own handlers, or back to the sender as an error. Presence goes to the presence component;
// messages follow RFC 6121 §8.5 (bare JIDs: every available resource with a non-negative priority) and
// get their XEP-0280 carbon copies here. Runs on the sender's worker thread; delivery to other sessions
// goes through their ClientHandle, which hands it to their own worker.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "server/iq_dispatcher.hpp"
#include "server/presence.hpp"
#include "server/session_config.hpp"
#include "server/session_registry.hpp"
#include "xml/stanza.hpp"
#include "xmpp/jid.hpp"

namespace tern::server {

// Everything a routing decision may need besides the stanza. Replies and errors for the sender are
// appended to `reply` (the sender's own output). An IQ for the server's handlers is left in `pending`: the
// sender awaits it (its later stanzas wait) and sends the reply it yields.
struct RouteContext {
    const Requester& sender;  // its JID is the stanza's stamped 'from'
    const SessionConfig& config;
    const IqDispatcher& iq;
    std::chrono::system_clock::time_point now;
    std::string& reply;
    IqReply& pending;
};

class Router {
public:
    // `data_dir` holds the roster and account databases the presence component reads; `blocking` (null:
    // inline, for tests) is where it reads and writes them.
    Router(SessionRegistry& registry, const std::filesystem::path& data_dir, Blocking* blocking = nullptr)
        : registry_(registry), presence_(registry, data_dir, blocking)
    {
    }

    void route(xml::Stanza&& stanza, const RouteContext& context);
    // A bound session is over for good (already unbound): its presence goes unavailable (RFC 6121 §4.5).
    void session_ended(const Requester& session) { presence_.session_ended(session); }

private:
    void to_server(xml::Stanza&& stanza, Target target, const RouteContext& context);
    void to_account(xml::Stanza&& stanza, const xmpp::Jid& bare, const RouteContext& context);
    void to_resource(xml::Stanza&& stanza, const xmpp::Jid& full, const RouteContext& context);
    void message_to_account(xml::Stanza&& stanza, const xmpp::Jid& bare, const RouteContext& context);
    void message_to_resource(xml::Stanza&& stanza, const xmpp::Jid& full, const RouteContext& context);
    // XEP-0280 copies of a message delivered to `recipients[i]` where `delivered[i]`.
    void copy_carbons(const xml::Stanza& message, std::string_view serialized, const std::string& recipient,
                      const std::vector<SessionRegistry::Resource>& recipients, const std::vector<bool>& delivered,
                      const RouteContext& context);

    SessionRegistry& registry_;
    Presence presence_;
};

}  // namespace tern::server
