// RFC 6121 Appendix A, cell by cell.
#include <doctest/doctest.h>

#include <map>

#include "server/presence_subscription.hpp"

using namespace tern;
using namespace tern::server;
using store::Subscription;
using store::SubscriptionState;

namespace {

const std::map<std::string, SubscriptionState> named = {
    {"None", {Subscription::None, false, false}},
    {"None+PO", {Subscription::None, true, false}},
    {"None+PI", {Subscription::None, false, true}},
    {"None+PO+PI", {Subscription::None, true, true}},
    {"To", {Subscription::To, false, false}},
    {"To+PI", {Subscription::To, false, true}},
    {"From", {Subscription::From, false, false}},
    {"From+PO", {Subscription::From, true, false}},
    {"Both", {Subscription::Both, false, false}},
};

struct Row {
    const char* from;
    const char* to;
    bool route;
};

void check_table(Direction direction, SubscriptionKind kind, const std::vector<Row>& rows)
{
    REQUIRE(rows.size() == 9);
    for (const auto& row : rows) {
        CAPTURE(to_string(kind));
        CAPTURE(row.from);
        const auto t = transition(named.at(row.from), direction, kind);
        CHECK(t.next == named.at(row.to));
        CHECK(t.route == row.route);
        const SubscriptionState& before = named.at(row.from);
        CHECK(t.push == (t.next.subscription != before.subscription || t.next.pending_out != before.pending_out));
    }
}

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("subscription: outbound subscribe (A.2.1) is always routed")
    {
        check_table(Direction::Outbound, SubscriptionKind::Subscribe,
                    {{"None", "None+PO", true}, {"None+PO", "None+PO", true}, {"None+PI", "None+PO+PI", true},
                     {"None+PO+PI", "None+PO+PI", true}, {"To", "To", true}, {"To+PI", "To+PI", true},
                     {"From", "From+PO", true}, {"From+PO", "From+PO", true}, {"Both", "Both", true}});
    }

    TEST_CASE("subscription: outbound unsubscribe (A.2.2) is always routed")
    {
        check_table(Direction::Outbound, SubscriptionKind::Unsubscribe,
                    {{"None", "None", true}, {"None+PO", "None", true}, {"None+PI", "None+PI", true},
                     {"None+PO+PI", "None+PI", true}, {"To", "None", true}, {"To+PI", "None+PI", true},
                     {"From", "From", true}, {"From+PO", "From", true}, {"Both", "From", true}});
    }

    TEST_CASE("subscription: outbound subscribed (A.2.3) routes only an approval")
    {
        check_table(Direction::Outbound, SubscriptionKind::Subscribed,
                    {{"None", "None", false}, {"None+PO", "None+PO", false}, {"None+PI", "From", true},
                     {"None+PO+PI", "From+PO", true}, {"To", "To", false}, {"To+PI", "Both", true},
                     {"From", "From", false}, {"From+PO", "From+PO", false}, {"Both", "Both", false}});
    }

    TEST_CASE("subscription: outbound unsubscribed (A.2.4) routes a denial or a cancellation")
    {
        check_table(Direction::Outbound, SubscriptionKind::Unsubscribed,
                    {{"None", "None", false}, {"None+PO", "None+PO", false}, {"None+PI", "None", true},
                     {"None+PO+PI", "None+PO", true}, {"To", "To", false}, {"To+PI", "To", true},
                     {"From", "None", true}, {"From+PO", "None+PO", true}, {"Both", "To", true}});
    }

    TEST_CASE("subscription: inbound subscribe (A.3.1) delivers new requests only")
    {
        check_table(Direction::Inbound, SubscriptionKind::Subscribe,
                    {{"None", "None+PI", true}, {"None+PO", "None+PO+PI", true}, {"None+PI", "None+PI", false},
                     {"None+PO+PI", "None+PO+PI", false}, {"To", "To+PI", true}, {"To+PI", "To+PI", false},
                     {"From", "From", false}, {"From+PO", "From+PO", false}, {"Both", "Both", false}});
    }

    TEST_CASE("subscription: inbound subscribe from an existing subscriber is answered automatically")
    {
        for (const auto& [name, state] : named) {
            CAPTURE(name);
            const bool subscribed = state.subscription == Subscription::From || state.subscription == Subscription::Both;
            CHECK(transition(state, Direction::Inbound, SubscriptionKind::Subscribe).auto_reply == subscribed);
            for (auto kind : {SubscriptionKind::Subscribed, SubscriptionKind::Unsubscribe, SubscriptionKind::Unsubscribed}) {
                CHECK_FALSE(transition(state, Direction::Inbound, kind).auto_reply);
                CHECK_FALSE(transition(state, Direction::Outbound, kind).auto_reply);
            }
            CHECK_FALSE(transition(state, Direction::Outbound, SubscriptionKind::Subscribe).auto_reply);
        }
    }

    TEST_CASE("subscription: inbound unsubscribe (A.3.2)")
    {
        check_table(Direction::Inbound, SubscriptionKind::Unsubscribe,
                    {{"None", "None", false}, {"None+PO", "None+PO", false}, {"None+PI", "None", true},
                     {"None+PO+PI", "None+PO", true}, {"To", "To", false}, {"To+PI", "To", true},
                     {"From", "None", true}, {"From+PO", "None+PO", true}, {"Both", "To", true}});
    }

    TEST_CASE("subscription: inbound subscribed (A.3.3) counts only as an answer to a pending request")
    {
        check_table(Direction::Inbound, SubscriptionKind::Subscribed,
                    {{"None", "None", false}, {"None+PO", "To", true}, {"None+PI", "None+PI", false},
                     {"None+PO+PI", "To+PI", true}, {"To", "To", false}, {"To+PI", "To+PI", false},
                     {"From", "From", false}, {"From+PO", "Both", true}, {"Both", "Both", false}});
    }

    TEST_CASE("subscription: inbound unsubscribed (A.3.4)")
    {
        check_table(Direction::Inbound, SubscriptionKind::Unsubscribed,
                    {{"None", "None", false}, {"None+PO", "None", true}, {"None+PI", "None+PI", false},
                     {"None+PO+PI", "None+PI", true}, {"To", "None", true}, {"To+PI", "None+PI", true},
                     {"From", "From", false}, {"From+PO", "From", true}, {"Both", "From", true}});
    }

    TEST_CASE("subscription: impossible flag combinations are read without the impossible flag")
    {
        const SubscriptionState to_with_ask{Subscription::To, true, false};
        CHECK(transition(to_with_ask, Direction::Inbound, SubscriptionKind::Unsubscribed).next == named.at("None"));
        const SubscriptionState both_pending{Subscription::Both, true, true};
        CHECK(transition(both_pending, Direction::Outbound, SubscriptionKind::Subscribe).next == named.at("Both"));
        const SubscriptionState from_with_request{Subscription::From, false, true};
        CHECK(transition(from_with_request, Direction::Outbound, SubscriptionKind::Unsubscribed).next == named.at("None"));
    }

    TEST_CASE("subscription: presence types name the four kinds and nothing else")
    {
        CHECK(subscription_kind("subscribe") == SubscriptionKind::Subscribe);
        CHECK(subscription_kind("subscribed") == SubscriptionKind::Subscribed);
        CHECK(subscription_kind("unsubscribe") == SubscriptionKind::Unsubscribe);
        CHECK(subscription_kind("unsubscribed") == SubscriptionKind::Unsubscribed);
        for (std::string_view other : {"", "unavailable", "probe", "error", "Subscribe"})
            CHECK_FALSE(subscription_kind(other).has_value());
    }
}
