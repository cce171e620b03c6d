#pragma once

// Where a stanza from a bound session goes (RFC 6120 §10, RFC 6121 §8): the server's own handlers, local
// sessions, or a destination for a domain the server does not serve (a remote domain, a component,
// later another cluster node), or back to the sender as an error. Presence goes to the presence
// component; messages follow RFC 6121 §8.5 (bare JIDs: every available resource with a non-negative
// priority). Features take part through the hooks (server/hooks.hpp): the router knows destinations,
// not features. Runs on the sender's worker thread; delivery to other sessions goes through their
// ClientHandle, which hands the envelope to their own worker.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/envelope.hpp"
#include "server/hooks.hpp"
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
    Envelopes& reply;
    IqReply& pending;
    const Hooks* hooks = nullptr;  // the modules' stanza hooks (null: the default rules only)
};

// Somewhere outside the local sessions that stanzas for a domain are handed to: an s2s link, a
// component, another cluster node. It answers the sender through `context.reply` when it cannot take one.
class Destination {
public:
    virtual ~Destination() = default;
    virtual void deliver(const Envelope& stanza, const RouteContext& context) = 0;
};

// A destination nothing is reachable through: each stanza that may be answered gets `condition` back.
class Unreachable final : public Destination {
public:
    explicit Unreachable(xmpp::StanzaErrorCondition condition) : condition_(condition) {}
    void deliver(const Envelope& stanza, const RouteContext& context) override;

private:
    xmpp::StanzaErrorCondition condition_;
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

    // Set up before the first stanza is routed, not changed after. Every domain the server does not serve
    // goes to the remote destination (federation; until then unreachable: remote-server-not-found), except
    // the domains of components.
    void set_remote(std::shared_ptr<Destination> remote) { remote_ = std::move(remote); }
    void add_component(std::string domain, std::shared_ptr<Destination> component);

private:
    void to_server(xml::Stanza&& stanza, Target target, const RouteContext& context);
    void to_account(xml::Stanza&& stanza, const xmpp::Jid& bare, const RouteContext& context);
    void to_resource(xml::Stanza&& stanza, const xmpp::Jid& full, const RouteContext& context);
    void message_to_account(xml::Stanza&& stanza, const xmpp::Jid& bare, const RouteContext& context);
    void message_to_resource(xml::Stanza&& stanza, const xmpp::Jid& full, const RouteContext& context);
    // Nobody local takes it: the undeliverable hooks, else RFC 6121 §8.5's answer (`answer` for chat,
    // normal and IQ requests; nothing for the rest).
    void undeliverable(const xml::Stanza& stanza, const RouteContext& context);
    void delivered(const Delivery& delivery, const RouteContext& context) const;

    SessionRegistry& registry_;
    Presence presence_;
    std::shared_ptr<Destination> remote_ =
        std::make_shared<Unreachable>(xmpp::StanzaErrorCondition::RemoteServerNotFound);
    std::map<std::string, std::shared_ptr<Destination>, std::less<>> components_;
};

}  // namespace tern::server
