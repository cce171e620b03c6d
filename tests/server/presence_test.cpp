// RFC 6121 presence, subscriptions and roster operations through the router, with recorded sessions.
#include <doctest/doctest.h>

#include "im_world.hpp"
#include "xmpp/ns.hpp"

using namespace tern;
using namespace tern::server;
using test::Client;
using test::World;

namespace {

using Stanzas = std::vector<xml::Stanza>;

std::string roster_get(World& world, Client& s, std::optional<std::string_view> version = std::nullopt)
{
    std::string out;
    xml::Writer w(out);
    REQUIRE(world.services().roster_get(s.requester(), version, w));
    return out;
}

xml::Element query_item(const xml::Stanza& push)
{
    return push.root().child("query", xmpp::ns::roster).child("item", xmpp::ns::roster);
}

const xml::Stanza* presence_of(const Stanzas& list, std::string_view from, std::string_view type = {})
{
    return test::find(list, [&](const xml::Stanza& s) { return s.name() == "presence" && s.from() == from && s.type() == type; });
}

const xml::Stanza* push_for(const Stanzas& list, std::string_view jid)
{
    return test::find(list, [&](const xml::Stanza& s) {
        return s.name() == "iq" && s.type() == "set" && query_item(s).attr("jid") == jid;
    });
}

RosterChange change(std::string_view jid, std::string name = {}, std::vector<std::string> groups = {})
{
    return {*xmpp::Jid::parse(jid), std::move(name), std::move(groups)};
}

// romeo/orchard and juliet/balcony, both available and interested, subscribed to each other.
struct Lovers {
    World world;
    Client& romeo = world.connect("romeo@montague.lit/orchard");
    Client& juliet = world.connect("juliet@montague.lit/balcony");

    Lovers()
    {
        roster_get(world, romeo);
        roster_get(world, juliet);
        world.send(romeo, "<presence/>");
        world.send(juliet, "<presence/>");
        world.send(romeo, "<presence to='juliet@montague.lit' type='subscribe'/>");
        world.send(juliet, "<presence to='romeo@montague.lit' type='subscribed'/>");
        world.send(juliet, "<presence to='romeo@montague.lit' type='subscribe'/>");
        world.send(romeo, "<presence to='juliet@montague.lit' type='subscribed'/>");
        romeo.take();
        juliet.take();
    }
};

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("presence: initial presence is reflected to the sender and the roster starts empty")
    {
        World world;
        auto& romeo = world.connect("romeo@montague.lit/orchard");
        const auto roster = test::stanzas(roster_get(world, romeo));
        REQUIRE(roster.size() == 1);
        CHECK(roster[0].name() == "query");
        CHECK(roster[0].attr("ver") == "0");
        CHECK(roster[0].root().child_count() == 0);
        world.send(romeo, "<presence><show>away</show></presence>");
        const auto got = romeo.take();
        REQUIRE(got.size() == 1);
        CHECK(got[0].from() == "romeo@montague.lit/orchard");
        CHECK(got[0].to() == "romeo@montague.lit/orchard");
        CHECK(got[0].root().child("show", xmpp::ns::client).text() == "away");
    }

    TEST_CASE("presence: the subscription handshake pushes each step and ends with presence exchanged")
    {
        World world;
        auto& romeo = world.connect("romeo@montague.lit/orchard");
        auto& juliet = world.connect("juliet@montague.lit/balcony");
        roster_get(world, romeo);
        roster_get(world, juliet);
        world.send(romeo, "<presence><status>here</status></presence>");
        world.send(juliet, "<presence/>");
        romeo.take();
        juliet.take();

        // §3.1.2: the user's item gets ask='subscribe'; the request reaches the contact from the bare JID.
        world.send(romeo, "<presence to='juliet@montague.lit/balcony' type='subscribe' id='s1'><status>hi</status></presence>");
        auto got = romeo.take();
        REQUIRE(got.size() == 1);
        auto item = query_item(got[0]);
        CHECK(got[0].to() == "romeo@montague.lit/orchard");
        CHECK(got[0].root().child("query", xmpp::ns::roster).attr("ver") == "1");
        CHECK(item.attr("jid") == "juliet@montague.lit");
        CHECK(item.attr("subscription") == "none");
        CHECK(item.attr("ask") == "subscribe");
        got = juliet.take();
        REQUIRE(got.size() == 1);
        CHECK(got[0].type() == "subscribe");
        CHECK(got[0].from() == "romeo@montague.lit");
        CHECK(got[0].to() == "juliet@montague.lit");
        CHECK(got[0].id() == "s1");
        CHECK(got[0].root().child("status", xmpp::ns::client).text() == "hi");
        // The request is not an item of juliet's roster yet.
        CHECK(test::stanzas(roster_get(world, juliet))[0].root().child_count() == 0);

        // §3.1.5: approval. Juliet's item says 'from'; romeo's says 'to', and romeo sees juliet online.
        world.send(juliet, "<presence to='romeo@montague.lit' type='subscribed'/>");
        got = juliet.take();
        REQUIRE(got.size() == 1);
        CHECK(query_item(got[0]).attr("jid") == "romeo@montague.lit");
        CHECK(query_item(got[0]).attr("subscription") == "from");
        got = romeo.take();
        REQUIRE(got.size() == 3);
        CHECK(query_item(got[0]).attr("subscription") == "to");
        CHECK_FALSE(query_item(got[0]).has_attr("ask"));
        CHECK(got[1].type() == "subscribed");
        CHECK(got[1].from() == "juliet@montague.lit");
        CHECK(got[2].name() == "presence");
        CHECK(got[2].type().empty());
        CHECK(got[2].from() == "juliet@montague.lit/balcony");
        CHECK(got[2].to() == "romeo@montague.lit/orchard");

        // The other direction makes both 'both'; juliet now gets romeo's current presence too.
        world.send(juliet, "<presence to='romeo@montague.lit' type='subscribe'/>");
        world.send(romeo, "<presence to='juliet@montague.lit' type='subscribed'/>");
        got = juliet.take();
        const auto* push = push_for(got, "romeo@montague.lit");
        REQUIRE(push);
        const auto* romeo_presence = presence_of(got, "romeo@montague.lit/orchard");
        REQUIRE(romeo_presence);
        CHECK(romeo_presence->root().child("status", xmpp::ns::client).text() == "here");
        const auto roster = std::move(test::stanzas(roster_get(world, romeo))[0]);
        CHECK(roster.attr("ver") == "3");  // ask, 'to', 'both': juliet's pending request is not visible
        CHECK(roster.root().child("item", xmpp::ns::roster).attr("subscription") == "both");
    }

    TEST_CASE("presence: a request to an offline contact waits for each of its initial presences")
    {
        World world;
        auto& romeo = world.connect("romeo@montague.lit/orchard");
        world.send(romeo, "<presence to='juliet@montague.lit' type='subscribe'><status>let me in</status></presence>");
        auto& balcony = world.connect("juliet@montague.lit/balcony");
        world.send(balcony, "<presence/>");
        auto got = balcony.take();
        const auto* request = presence_of(got, "romeo@montague.lit", "subscribe");
        REQUIRE(request);
        CHECK(request->root().child("status", xmpp::ns::client).text() == "let me in");
        // A presence update is not an initial presence: no second delivery.
        world.send(balcony, "<presence><show>dnd</show></presence>");
        CHECK_FALSE(presence_of(balcony.take(), "romeo@montague.lit", "subscribe"));
        // Another resource logging in gets it too, until it is answered.
        auto& chamber = world.connect("juliet@montague.lit/chamber");
        world.send(chamber, "<presence/>");
        CHECK(presence_of(chamber.take(), "romeo@montague.lit", "subscribe"));
        world.send(chamber, "<presence to='romeo@montague.lit' type='unsubscribed'/>");
        auto& tomb = world.connect("juliet@montague.lit/tomb");
        world.send(tomb, "<presence/>");
        CHECK_FALSE(presence_of(tomb.take(), "romeo@montague.lit", "subscribe"));
        // The denial reached romeo's item: no subscription, no ask.
        const auto roster = std::move(test::stanzas(roster_get(world, romeo))[0]);
        CHECK(roster.root().child("item", xmpp::ns::roster).attr("subscription") == "none");
        CHECK_FALSE(roster.root().child("item", xmpp::ns::roster).has_attr("ask"));
    }

    TEST_CASE("presence: a request to an account that does not exist is answered with unsubscribed")
    {
        World world;
        auto& romeo = world.connect("romeo@montague.lit/orchard");
        roster_get(world, romeo);
        world.send(romeo, "<presence/>");
        romeo.take();
        world.send(romeo, "<presence to='rosaline@montague.lit' type='subscribe'/>");
        const auto got = romeo.take();
        REQUIRE(got.size() == 3);
        CHECK(query_item(got[0]).attr("ask") == "subscribe");
        CHECK(query_item(got[1]).attr("subscription") == "none");
        CHECK_FALSE(query_item(got[1]).has_attr("ask"));
        CHECK(got[2].type() == "unsubscribed");
        CHECK(got[2].from() == "rosaline@montague.lit");
    }

    TEST_CASE("presence: a subscribe from an existing subscriber is approved on the contact's behalf")
    {
        Lovers l;
        // Romeo's client lost track and asks again: juliet's server answers for her, no request reaches her.
        l.world.send(l.romeo, "<presence to='juliet@montague.lit' type='subscribe'/>");
        CHECK(l.juliet.take().empty());
        CHECK(l.romeo.take().empty());  // both items already 'both': nothing changes, nothing is pushed
    }

    TEST_CASE("presence: broadcasts reach subscribers and own resources, not strangers")
    {
        Lovers l;
        auto& nurse = l.world.connect("nurse@montague.lit/kitchen");
        l.world.send(nurse, "<presence/>");
        nurse.take();
        auto& garden = l.world.connect("romeo@montague.lit/garden");
        l.world.send(garden, "<presence><priority>5</priority></presence>");
        // The new resource learns juliet's and orchard's presence; both hear of it.
        auto got = garden.take();
        CHECK(presence_of(got, "romeo@montague.lit/garden"));
        CHECK(presence_of(got, "juliet@montague.lit/balcony"));
        CHECK(presence_of(got, "romeo@montague.lit/orchard"));
        CHECK(presence_of(l.juliet.take(), "romeo@montague.lit/garden"));
        CHECK(presence_of(l.romeo.take(), "romeo@montague.lit/garden"));
        CHECK(nurse.take().empty());

        l.world.send(garden, "<presence type='unavailable'><status>bye</status></presence>");
        const auto juliet = l.juliet.take();
        const auto* gone = presence_of(juliet, "romeo@montague.lit/garden", "unavailable");
        REQUIRE(gone);
        CHECK(gone->root().child("status", xmpp::ns::client).text() == "bye");
        CHECK(presence_of(l.romeo.take(), "romeo@montague.lit/garden", "unavailable"));
        CHECK(nurse.take().empty());
        // Unavailable, it no longer counts for messages to the bare JID nor gets broadcasts.
        l.world.send(l.juliet, "<presence><show>chat</show></presence>");
        CHECK(garden.take().empty());
    }

    TEST_CASE("presence: a dropped session goes unavailable to subscribers and own resources")
    {
        Lovers l;
        auto& garden = l.world.connect("romeo@montague.lit/garden");
        l.world.send(garden, "<presence/>");
        garden.take();
        l.juliet.take();
        l.romeo.take();
        l.world.disconnect(l.romeo);
        const auto juliet = l.juliet.take();
        const auto* gone = presence_of(juliet, "romeo@montague.lit/orchard", "unavailable");
        REQUIRE(gone);
        CHECK(gone->to() == "juliet@montague.lit/balcony");
        CHECK(presence_of(garden.take(), "romeo@montague.lit/orchard", "unavailable"));
        // A session that never sent presence leaves quietly.
        auto& quiet = l.world.connect("romeo@montague.lit/quiet");
        l.world.disconnect(quiet);
        CHECK(l.juliet.take().empty());
    }

    TEST_CASE("presence: a session replaced by an already available one for the same resource leaves no unavailable")
    {
        Lovers l;
        Client newer;
        newer.jid = l.romeo.jid;
        REQUIRE(l.world.registry.bind(newer.jid, newer.handle).replaced == l.romeo.handle);
        l.world.send(newer, "<presence/>");
        l.juliet.take();
        l.world.disconnect(l.romeo);  // the older one ends after the newer one is online
        CHECK(l.juliet.take().empty());
    }

    TEST_CASE("presence: directed presence is tracked and answered with unavailable at the end")
    {
        Lovers l;
        auto& nurse = l.world.connect("nurse@montague.lit/kitchen");
        auto& benvolio = l.world.connect("benvolio@montague.lit/square");
        l.world.send(benvolio, "<presence/>");
        benvolio.take();
        l.world.send(l.romeo, "<presence to='nurse@montague.lit/kitchen'><status>psst</status></presence>");
        l.world.send(l.romeo, "<presence to='benvolio@montague.lit'/>");
        l.world.send(l.romeo, "<presence to='juliet@montague.lit/balcony'/>");  // a subscriber: not tracked
        CHECK(presence_of(nurse.take(), "romeo@montague.lit/orchard"));
        CHECK(presence_of(benvolio.take(), "romeo@montague.lit/orchard"));
        l.juliet.take();
        CHECK(l.romeo.state.presence.directed ==
              std::vector<std::string>{"nurse@montague.lit/kitchen", "benvolio@montague.lit"});
        // A directed unavailable settles that recipient.
        l.world.send(l.romeo, "<presence to='benvolio@montague.lit' type='unavailable'/>");
        CHECK(presence_of(benvolio.take(), "romeo@montague.lit/orchard", "unavailable"));

        l.world.disconnect(l.romeo);
        CHECK(presence_of(nurse.take(), "romeo@montague.lit/orchard", "unavailable"));
        CHECK(benvolio.take().empty());
        const auto juliet = l.juliet.take();
        CHECK(juliet.size() == 1);
        CHECK(presence_of(juliet, "romeo@montague.lit/orchard", "unavailable"));
    }

    TEST_CASE("presence: probes are answered for subscribed contacts only")
    {
        Lovers l;
        auto& nurse = l.world.connect("nurse@montague.lit/kitchen");
        l.world.send(l.romeo, "<presence to='juliet@montague.lit' type='probe'/>");
        CHECK(presence_of(l.romeo.take(), "juliet@montague.lit/balcony"));
        l.world.send(l.juliet, "<presence type='unavailable'/>");
        l.romeo.take();
        l.world.send(l.romeo, "<presence to='juliet@montague.lit' type='probe'/>");
        CHECK(presence_of(l.romeo.take(), "juliet@montague.lit", "unavailable"));
        l.world.send(nurse, "<presence to='romeo@montague.lit' type='probe'/>");
        CHECK(nurse.take().empty());
    }

    TEST_CASE("presence: unsubscribe and unsubscribed withdraw presence and update both rosters")
    {
        Lovers l;
        // Romeo stops seeing juliet: his item goes 'from', hers 'to', and juliet's presence is withdrawn.
        l.world.send(l.romeo, "<presence to='juliet@montague.lit' type='unsubscribe'/>");
        auto got = l.romeo.take();
        CHECK(query_item(*push_for(got, "juliet@montague.lit")).attr("subscription") == "from");
        CHECK(presence_of(got, "juliet@montague.lit/balcony", "unavailable"));
        got = l.juliet.take();
        CHECK(query_item(*push_for(got, "romeo@montague.lit")).attr("subscription") == "to");
        CHECK(presence_of(got, "romeo@montague.lit", "unsubscribe"));
        // Juliet cancels romeo's... she has none left to cancel from him; romeo cancels hers.
        l.world.send(l.romeo, "<presence to='juliet@montague.lit' type='unsubscribed'/>");
        got = l.juliet.take();
        CHECK(query_item(*push_for(got, "romeo@montague.lit")).attr("subscription") == "none");
        CHECK(presence_of(got, "romeo@montague.lit", "unsubscribed"));
        CHECK(presence_of(got, "romeo@montague.lit/orchard", "unavailable"));
        // Broadcasts stop both ways.
        l.romeo.take();
        l.world.send(l.romeo, "<presence><show>xa</show></presence>");
        CHECK(l.juliet.take().empty());
    }

    TEST_CASE("roster: set and remove push to interested resources only, with growing versions")
    {
        World world;
        auto& orchard = world.connect("romeo@montague.lit/orchard");
        auto& garden = world.connect("romeo@montague.lit/garden");  // never asks for the roster
        roster_get(world, orchard);
        REQUIRE(world.services().roster_set(orchard.requester(), change("nurse@montague.lit", "Nurse", {"Servants", "Capulets"})));
        auto got = orchard.take();
        REQUIRE(got.size() == 1);
        CHECK(got[0].type() == "set");
        CHECK_FALSE(got[0].id().empty());
        CHECK(got[0].root().child("query", xmpp::ns::roster).attr("ver") == "1");
        auto item = query_item(got[0]);
        CHECK(item.attr("name") == "Nurse");
        CHECK(item.attr("subscription") == "none");
        std::vector<std::string> groups;
        for (const auto g : item.children()) groups.emplace_back(g.text());
        CHECK(groups == std::vector<std::string>{"Servants", "Capulets"});
        CHECK(garden.take().empty());

        // Setting the same content again changes nothing and pushes nothing.
        REQUIRE(world.services().roster_set(orchard.requester(), change("nurse@montague.lit", "Nurse", {"Servants", "Capulets"})));
        CHECK(orchard.take().empty());

        // §2.6.3: a current version gets an empty result; an old or unknown one the whole roster.
        CHECK(roster_get(world, orchard, "1").empty());
        const auto full = test::stanzas(roster_get(world, orchard, "0"));
        REQUIRE(full.size() == 1);
        CHECK(full[0].root().child_count() == 1);
        CHECK_FALSE(roster_get(world, orchard, "").empty());

        REQUIRE(world.services().roster_remove(orchard.requester(), *xmpp::Jid::parse("nurse@montague.lit")));
        got = orchard.take();
        REQUIRE(got.size() == 1);
        CHECK(query_item(got[0]).attr("subscription") == "remove");
        CHECK(got[0].root().child("query", xmpp::ns::roster).attr("ver") == "2");
        const auto again = world.services().roster_remove(orchard.requester(), *xmpp::Jid::parse("nurse@montague.lit"));
        REQUIRE_FALSE(again);
        CHECK(again.error().condition == xmpp::StanzaErrorCondition::ItemNotFound);
    }

    TEST_CASE("roster: removing a contact cancels both subscriptions and withdraws presence")
    {
        Lovers l;
        REQUIRE(l.world.services().roster_remove(l.romeo.requester(), *xmpp::Jid::parse("juliet@montague.lit")));
        auto got = l.romeo.take();
        CHECK(query_item(*push_for(got, "juliet@montague.lit")).attr("subscription") == "remove");
        CHECK(presence_of(got, "juliet@montague.lit/balcony", "unavailable"));
        got = l.juliet.take();
        CHECK(presence_of(got, "romeo@montague.lit", "unsubscribe"));
        CHECK(presence_of(got, "romeo@montague.lit", "unsubscribed"));
        CHECK(presence_of(got, "romeo@montague.lit/orchard", "unavailable"));
        const auto roster = std::move(test::stanzas(roster_get(l.world, l.juliet))[0]);
        CHECK(roster.root().child("item", xmpp::ns::roster).attr("subscription") == "none");
    }

    TEST_CASE("roster: a full roster refuses new items with resource-constraint")
    {
        World world;
        auto& romeo = world.connect("romeo@montague.lit/orchard");
        for (std::size_t i = 0; i < max_roster_items; ++i)
            REQUIRE(world.services().roster_set(romeo.requester(), change("c" + std::to_string(i) + "@montague.lit")));
        const auto full = world.services().roster_set(romeo.requester(), change("one-more@montague.lit"));
        REQUIRE_FALSE(full);
        CHECK(full.error().condition == xmpp::StanzaErrorCondition::ResourceConstraint);
        // Existing items can still change.
        CHECK(world.services().roster_set(romeo.requester(), change("c0@montague.lit", "renamed")));
    }

    TEST_CASE("presence: subscription requests respect the roster cap, outbound and inbound")
    {
        World world;
        auto& romeo = world.connect("romeo@montague.lit/orchard");
        for (std::size_t i = 0; i < max_roster_items; ++i)
            world.send(romeo, "<presence type='subscribe' to='c" + std::to_string(i) + "@montague.lit'/>");
        CHECK(romeo.take().empty());
        // Asking one more for its presence would add an item: refused to the sender, nothing stored.
        world.send(romeo, "<presence type='subscribe' to='one-more@montague.lit'/>");
        auto got = romeo.take();
        const auto* refused = presence_of(got, "one-more@montague.lit", "error");
        REQUIRE(refused);
        CHECK(refused->to() == "romeo@montague.lit");
        CHECK(refused->root().child("error", xmpp::ns::client).attr("type") == "wait");
        CHECK(refused->root().child("error", xmpp::ns::client).child("resource-constraint", xmpp::ns::stanzas));
        // A request *to* romeo would add an unlisted item to his full roster: refused to its sender, not
        // kept for his next login.
        auto& juliet = world.connect("juliet@montague.lit/balcony");
        world.send(juliet, "<presence type='subscribe' to='romeo@montague.lit'/>");
        got = juliet.take();
        refused = presence_of(got, "romeo@montague.lit", "error");
        REQUIRE(refused);
        CHECK(refused->root().child("error", xmpp::ns::client).child("resource-constraint", xmpp::ns::stanzas));
        auto& later = world.connect("romeo@montague.lit/later");
        world.send(later, "<presence/>");
        CHECK_FALSE(presence_of(later.take(), "juliet@montague.lit", "subscribe"));
        // Existing items still take subscription stanzas.
        world.send(romeo, "<presence type='unsubscribe' to='c0@montague.lit'/>");
        CHECK(romeo.take().empty());
    }

    TEST_CASE("presence: a pending request is stored within a few KiB, its nickname kept")
    {
        World world;
        auto& romeo = world.connect("romeo@montague.lit/orchard");
        const std::string big(100000, 'x');
        world.send(romeo, "<presence to='juliet@montague.lit' type='subscribe'><status>" + big + "</status>"
                          "<nick xmlns='http://jabber.org/protocol/nick'>Romeo</nick></presence>");
        auto& balcony = world.connect("juliet@montague.lit/balcony");
        world.send(balcony, "<presence/>");
        const std::string replayed = balcony.handle->delivered;
        const auto got = balcony.take();
        const auto* request = presence_of(got, "romeo@montague.lit", "subscribe");
        REQUIRE(request);
        CHECK(replayed.size() < roster_limits.max_request_bytes + 1024);
        CHECK(request->root().child("nick", "http://jabber.org/protocol/nick").text() == "Romeo");
        CHECK_FALSE(request->root().child("status", xmpp::ns::client));
    }

    TEST_CASE("presence: an account's pending requests are stored within a total; the rest replay as plain subscribes")
    {
        World world;
        const std::string status(3000, 's');
        constexpr int senders = 120;  // 120 requests of about 3 KB: more than the 256 KiB total
        for (int i = 0; i < senders; ++i) {
            auto& sender = world.connect("s" + std::to_string(i) + "@montague.lit/r");
            world.send(sender, "<presence to='juliet@montague.lit' type='subscribe'><status>" + status + "</status>"
                               "<nick xmlns='http://jabber.org/protocol/nick'>S" + std::to_string(i) + "</nick></presence>");
        }
        auto& balcony = world.connect("juliet@montague.lit/balcony");
        world.send(balcony, "<presence/>");
        const std::size_t replayed_bytes = balcony.handle->delivered.size();
        const auto got = balcony.take();
        int requests = 0;
        int with_status = 0;
        for (const auto& s : got) {
            if (s.name() != "presence" || s.type() != "subscribe") continue;
            ++requests;
            if (s.root().child("status", xmpp::ns::client)) ++with_status;
        }
        CHECK(requests == senders);  // every request is still there to answer
        CHECK(with_status > 0);
        CHECK(with_status < senders);
        CHECK(replayed_bytes < roster_limits.max_request_bytes_per_account + senders * 200);
    }

    TEST_CASE("presence: priorities decide who gets messages to the bare JID")
    {
        World world;
        auto& romeo = world.connect("romeo@montague.lit/orchard");
        auto& high = world.connect("juliet@montague.lit/balcony");
        auto& low = world.connect("juliet@montague.lit/chamber");
        world.send(high, "<presence><priority>10</priority></presence>");
        world.send(low, "<presence><priority>-5</priority></presence>");
        high.take();
        low.take();
        world.send(romeo, "<message to='juliet@montague.lit' type='chat'><body>x</body></message>");
        CHECK(high.take().size() == 1);
        CHECK(low.take().empty());
        // A priority out of range counts as 0.
        world.send(low, "<presence><priority>500</priority></presence>");
        world.send(romeo, "<message to='juliet@montague.lit' type='chat'><body>x</body></message>");
        CHECK(high.take().size() == 2);  // low's presence update and the message
        CHECK(low.take().size() == 2);   // its own reflected presence and the message
    }
}
