#pragma once

// RFC 6121 for local accounts, on top of the session registry and the roster store:
// - presence: availability and priority of each resource (kept in the registry, where every router can
//   read it), broadcasts to subscribers and to the account's own resources, probes answered from the
//   contacts' last presence, directed presence and the unavailable owed to its recipients (§4);
// - the four subscription stanzas, each side of a subscription run through its Appendix A table, with
//   roster pushes, stored inbound requests redelivered on every initial presence, and auto-replies (§3);
// - the roster operations the roster module asks for (AccountServices), with their pushes (§2).
// All of it runs on the worker of the session it comes from; other sessions are reached through their
// ClientHandle. SQLite is used inline (a roster write is a WAL append, tens of microseconds).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "server/module_api.hpp"
#include "server/presence_subscription.hpp"
#include "server/roster_limits.hpp"
#include "server/session_registry.hpp"
#include "store/roster.hpp"
#include "xml/stanza.hpp"
#include "xmpp/jid.hpp"

namespace tern::server {

// Roster items one account may have: the "server-configured limit" of RFC 6121 §2.3.3 and §3.1.3.
inline constexpr std::size_t max_roster_items = roster_limits.max_items;

class Presence final : public AccountServices {
public:
    // The roster database (data_dir/roster.sqlite) and the accounts database (to tell whether a contact
    // exists) are opened once per thread, on first use.
    Presence(SessionRegistry& registry, const std::filesystem::path& data_dir);

    // A presence stanza from a bound session, 'from' stamped with its full JID. `to` is the local JID it
    // is addressed to, or nullopt for a broadcast (no 'to', or the sender's own bare JID). What goes to the
    // sender itself (its reflected presence, its contacts' presence, pending requests) is appended to `reply`.
    void handle(xml::Stanza&& presence, const std::optional<xmpp::Jid>& to, const Requester& sender,
                std::string& reply);
    // The session is over for good and no longer in the registry (or replaced there by a newer session):
    // unavailable on its behalf to subscribers, own resources and directed-presence recipients.
    void session_ended(const Requester& session);

    // AccountServices
    IqResult roster_get(const Requester& session, std::optional<std::string_view> known_version,
                        xml::Writer& reply) override;
    IqResult roster_set(const Requester& session, const RosterChange& change) override;
    IqResult roster_remove(const Requester& session, const xmpp::Jid& contact) override;
    void set_carbons(const Requester& session, bool enabled) override;

private:
    struct Applied {
        SubscriptionTransition transition;
        store::ItemUpdate update;
        bool refused = false;  // it would have added an item to a full roster (nothing changed, no route)
    };

    void available(xml::Stanza&& stanza, const Requester& sender, std::string& reply);
    void unavailable(xml::Stanza&& stanza, const Requester& sender);
    void directed(xml::Stanza&& stanza, const xmpp::Jid& to, const Requester& sender, std::string& reply);
    void probe(const xmpp::Jid& contact, const Requester& sender, std::string& reply);
    // A refusal (a full roster on either side) goes back to the sender in `reply`.
    void subscription(SubscriptionKind kind, xml::Stanza&& stanza, const xmpp::Jid& contact, const Requester& sender,
                      std::string& reply);

    // One side of a subscription stanza: the owner's item for `contact` through the table, then the push.
    std::optional<Applied> apply(const std::string& owner, const std::string& contact, Direction direction,
                                 SubscriptionKind kind, std::string_view stanza);
    // The receiving side: apply, deliver to the owner's available resources, auto-reply.
    std::optional<Applied> inbound(SubscriptionKind kind, const std::string& owner, const std::string& from,
                                   std::string_view stanza);

    // The presence of each available resource of `from` (or its unavailable) to each of `to`'s.
    void send_presence(const std::string& from, const std::string& to, bool unavailable);
    // `stanza` (no 'to') to subscribers and the account's available resources, the sender's own
    // copy to `self` unless null.
    void broadcast(const Requester& sender, std::string_view stanza, const store::Roster& roster, std::string* self);
    void to_directed_recipients(const Requester& sender, std::string_view unavailable);
    void push(const std::string& owner, const store::ItemUpdate& update);

    store::RosterStore* roster_store();
    std::optional<store::Roster> read_roster(const std::string& owner);
    bool account_exists(const std::string& bare);

    SessionRegistry& registry_;
    std::string roster_path_;
    std::string accounts_path_;
    std::atomic<std::uint64_t> next_push_{1};
};

}  // namespace tern::server
