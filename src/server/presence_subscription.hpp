#pragma once

// RFC 6121 Appendix A as a pure function: how one subscription stanza changes the subscription between
// an account and a contact as the account's server sees it, and what the server does with the stanza.
// "Outbound" stanzas come from the account's own client; "inbound" ones from the contact.
#include <optional>
#include <string_view>

#include "store/roster.hpp"

namespace tern::server {

enum class SubscriptionKind { Subscribe, Subscribed, Unsubscribe, Unsubscribed };
enum class Direction { Outbound, Inbound };

// The presence type attribute of a subscription stanza; nullopt for any other type.
std::optional<SubscriptionKind> subscription_kind(std::string_view type);
std::string_view to_string(SubscriptionKind kind);

struct SubscriptionTransition {
    store::SubscriptionState next;
    // Outbound: route the stanza to the contact. Inbound: deliver it to the account's available
    // resources (for a subscribe with none available, it waits for the next login).
    bool route = false;
    // The subscription or the ask flag changed: a listed item gets a roster push.
    bool push = false;
    // Inbound subscribe from a contact that already has a subscription: the server answers 'subscribed'
    // on the account's behalf instead of asking the user again (§3.1.3).
    bool auto_reply = false;
};

// States outside the nine of Appendix A (pending_out with To or Both, pending_in with From or Both) are
// read as the state without the impossible flag.
SubscriptionTransition transition(store::SubscriptionState state, Direction direction, SubscriptionKind kind);

}  // namespace tern::server
