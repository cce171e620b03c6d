#include "server/presence_subscription.hpp"

#include <array>
#include <cstddef>

namespace tern::server {

namespace {

using store::Subscription;
using store::SubscriptionState;

// Appendix A's nine states, in the RFC's order.
enum State : std::size_t { None, NonePendingOut, NonePendingIn, NonePendingOutIn, To, ToPendingIn, From, FromPendingOut, Both };
constexpr std::size_t state_count = 9;

constexpr std::array<SubscriptionState, state_count> states = {{
    {Subscription::None, false, false},
    {Subscription::None, true, false},
    {Subscription::None, false, true},
    {Subscription::None, true, true},
    {Subscription::To, false, false},
    {Subscription::To, false, true},
    {Subscription::From, false, false},
    {Subscription::From, true, false},
    {Subscription::Both, false, false},
}};

State index_of(SubscriptionState s)
{
    switch (s.subscription) {
    case Subscription::None: return s.pending_out ? (s.pending_in ? NonePendingOutIn : NonePendingOut) : (s.pending_in ? NonePendingIn : None);
    case Subscription::To: return s.pending_in ? ToPendingIn : To;
    case Subscription::From: return s.pending_out ? FromPendingOut : From;
    case Subscription::Both: return Both;
    }
    return None;
}

struct Cell {
    State next;
    bool route;
};
using Table = std::array<Cell, state_count>;

// A.2.1 outbound subscribe and A.2.2 outbound unsubscribe are always routed: the contact's server
// decides with its own table whether anything reaches the contact.
constexpr Table outbound_subscribe = {{{NonePendingOut, true}, {NonePendingOut, true}, {NonePendingOutIn, true},
                                       {NonePendingOutIn, true}, {To, true}, {ToPendingIn, true},
                                       {FromPendingOut, true}, {FromPendingOut, true}, {Both, true}}};
constexpr Table outbound_unsubscribe = {{{None, true}, {None, true}, {NonePendingIn, true}, {NonePendingIn, true},
                                         {None, true}, {NonePendingIn, true}, {From, true}, {From, true},
                                         {From, true}}};
// A.2.3 outbound subscribed: only an approval of a pending request is routed (no pre-approval).
constexpr Table outbound_subscribed = {{{None, false}, {NonePendingOut, false}, {From, true}, {FromPendingOut, true},
                                        {To, false}, {Both, true}, {From, false}, {FromPendingOut, false},
                                        {Both, false}}};
// A.2.4 outbound unsubscribed: denies a pending request or cancels the contact's subscription.
constexpr Table outbound_unsubscribed = {{{None, false}, {NonePendingOut, false}, {None, true},
                                          {NonePendingOut, true}, {To, false}, {To, true}, {None, true},
                                          {NonePendingOut, true}, {To, true}}};
// A.3.1 inbound subscribe (From, From + Pending Out and Both are answered automatically).
constexpr Table inbound_subscribe = {{{NonePendingIn, true}, {NonePendingOutIn, true}, {NonePendingIn, false},
                                      {NonePendingOutIn, false}, {ToPendingIn, true}, {ToPendingIn, false},
                                      {From, false}, {FromPendingOut, false}, {Both, false}}};
// A.3.2 inbound unsubscribe.
constexpr Table inbound_unsubscribe = {{{None, false}, {NonePendingOut, false}, {None, true}, {NonePendingOut, true},
                                        {To, false}, {To, true}, {None, true}, {NonePendingOut, true},
                                        {To, true}}};
// A.3.3 inbound subscribed: only an answer to our pending request counts.
constexpr Table inbound_subscribed = {{{None, false}, {To, true}, {NonePendingIn, false}, {ToPendingIn, true},
                                       {To, false}, {ToPendingIn, false}, {From, false}, {Both, true},
                                       {Both, false}}};
// A.3.4 inbound unsubscribed.
constexpr Table inbound_unsubscribed = {{{None, false}, {None, true}, {NonePendingIn, false}, {NonePendingIn, true},
                                         {None, true}, {NonePendingIn, true}, {From, false}, {From, true},
                                         {From, true}}};

const Table& table_for(Direction direction, SubscriptionKind kind)
{
    const bool out = direction == Direction::Outbound;
    switch (kind) {
    case SubscriptionKind::Subscribe: return out ? outbound_subscribe : inbound_subscribe;
    case SubscriptionKind::Subscribed: return out ? outbound_subscribed : inbound_subscribed;
    case SubscriptionKind::Unsubscribe: return out ? outbound_unsubscribe : inbound_unsubscribe;
    case SubscriptionKind::Unsubscribed: return out ? outbound_unsubscribed : inbound_unsubscribed;
    }
    return outbound_subscribe;
}

}  // namespace

std::optional<SubscriptionKind> subscription_kind(std::string_view type)
{
    if (type == "subscribe") return SubscriptionKind::Subscribe;
    if (type == "subscribed") return SubscriptionKind::Subscribed;
    if (type == "unsubscribe") return SubscriptionKind::Unsubscribe;
    if (type == "unsubscribed") return SubscriptionKind::Unsubscribed;
    return std::nullopt;
}

std::string_view to_string(SubscriptionKind kind)
{
    switch (kind) {
    case SubscriptionKind::Subscribe: return "subscribe";
    case SubscriptionKind::Subscribed: return "subscribed";
    case SubscriptionKind::Unsubscribe: return "unsubscribe";
    case SubscriptionKind::Unsubscribed: return "unsubscribed";
    }
    return "?";
}

SubscriptionTransition transition(SubscriptionState state, Direction direction, SubscriptionKind kind)
{
    const State from = index_of(state);
    const Cell cell = table_for(direction, kind)[from];
    const SubscriptionState& before = states[from];
    SubscriptionTransition t;
    t.next = states[cell.next];
    t.route = cell.route;
    t.push = t.next.subscription != before.subscription || t.next.pending_out != before.pending_out;
    t.auto_reply = direction == Direction::Inbound && kind == SubscriptionKind::Subscribe &&
                   (before.subscription == Subscription::From || before.subscription == Subscription::Both);
    return t;
}

}  // namespace tern::server
