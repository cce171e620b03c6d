#pragma once

// The points where feature modules take part in a stanza's travel and in a session's life, besides
// answering IQs. Modules register them at start (modules/modules.cpp), in a Hooks table built for one
// configuration like the IQ table; the router and the connection run them. The router knows
// destinations, not features: carbons, blocking, offline storage, push and archives are hooks.
//
//   pre-route      every stanza from a bound session, before the router's rules (blocking, limits);
//                  a hook may drop it or answer it itself.
//   on-deliver     a message was handed to local resources of an account (carbons).
//   undeliverable  nobody takes a message or an IQ request (offline storage, push); when no hook takes
//                  it, RFC 6121 §8.5's default answer applies (service-unavailable, or dropped).
//   archive        a message between accounts is routed, once per message (MAM).
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "server/envelope.hpp"
#include "server/module_api.hpp"
#include "server/session_registry.hpp"
#include "xml/stanza.hpp"

namespace tern::server {

// What a stanza hook gets besides the stanza. Replies for the sender go to `reply` (its own output).
struct StanzaContext {
    const Requester& sender;
    const SessionRegistry& sessions;  // the bound sessions, to reach other resources of an account
    std::chrono::system_clock::time_point now;
    Envelopes& reply;
};

enum class HookResult { Continue, Taken };  // Taken: the hook dealt with it (dropped, answered, stored)

// A message handed to the local resources of one account.
struct Delivery {
    const xml::Stanza& stanza;  // as parsed, 'from' stamped
    const Envelope& envelope;
    const std::string& account;                                // the recipient's bare JID
    const std::vector<SessionRegistry::Resource>& resources;  // the account's resources then
    const std::vector<bool>& delivered;                        // which of them got it
};

struct StanzaHooks {
    std::function<HookResult(const xml::Stanza& stanza, const StanzaContext& context)> pre_route = {};
    std::function<void(const Delivery& delivery, const StanzaContext& context)> on_deliver = {};
    std::function<HookResult(const Envelope& stanza, const StanzaContext& context)> undeliverable = {};
    std::function<void(const Envelope& stanza, const StanzaContext& context)> archive = {};
};

// A module's part in a bound session's life. Each appends stanzas to push to the session to `out`; the
// server calls them on the session's worker.
struct SessionHooks {
    // After a configuration reload, with the tables built from the new configuration.
    std::function<void(const Requester& session, Envelopes& out)> on_reload;
    // About once a minute (e.g. to refresh credentials before they expire).
    std::function<void(const Requester& session, std::chrono::system_clock::time_point now, Envelopes& out)> on_tick;
};

class Hooks {
public:
    void add(StanzaHooks hooks) { stanza_.push_back(std::move(hooks)); }
    void add(SessionHooks hooks) { session_.push_back(std::move(hooks)); }

    // In registration order; the first hook that takes the stanza ends the run.
    HookResult pre_route(const xml::Stanza& stanza, const StanzaContext& context) const;
    void on_deliver(const Delivery& delivery, const StanzaContext& context) const;
    HookResult undeliverable(const Envelope& stanza, const StanzaContext& context) const;
    void archive(const Envelope& stanza, const StanzaContext& context) const;

    void on_reload(const Requester& session, Envelopes& out) const;
    void on_tick(const Requester& session, std::chrono::system_clock::time_point now, Envelopes& out) const;

private:
    std::vector<StanzaHooks> stanza_;
    std::vector<SessionHooks> session_;
};

}  // namespace tern::server
