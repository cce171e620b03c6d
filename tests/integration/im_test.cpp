// RFC 6121 and XEP-0280 on a real ternd with two and three clients: messages to full and bare JIDs, a
// Jingle-shaped IQ between full JIDs, the subscription handshake with its roster pushes, directed presence,
// unavailable presence when a connection drops, and carbons.
#include <doctest/doctest.h>

#include <functional>

#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

using Match = std::function<bool(const xml::Stanza&)>;

struct Im {
    TernProcess server;
    Im()
    {
        server.add_user("alice@localhost", "wonderland");
        server.add_user("bob@localhost", "builder");
        server.add_user("carol@localhost", "singer");
        server.start();
    }
    std::unique_ptr<XmppClient> login(const std::string& user, const std::string& password, const std::string& resource)
    {
        auto client = std::make_unique<XmppClient>(server.starttls_port());
        REQUIRE(client->login(user, password, resource) == user + "@localhost/" + resource);
        return client;
    }
};

// The next stanza that matches, skipping others (broadcasts, pushes) on the way; fails after a bound.
xml::Stanza expect(XmppClient& client, const Match& match, const char* what)
{
    for (int skipped = 0; skipped < 20; ++skipped) {
        xml::Stanza s = client.next_stanza();
        if (match(s)) return s;
    }
    FAIL("too many other stanzas while waiting for " << what);
    throw std::logic_error("unreachable");
}

Match presence_from(std::string from, std::string type = {})
{
    return [=](const xml::Stanza& s) { return s.name() == "presence" && s.from() == from && s.type() == type; };
}

Match push_of(std::string jid)
{
    return [=](const xml::Stanza& s) {
        return s.name() == "iq" && s.type() == "set" &&
               s.root().child("query", xmpp::ns::roster).child("item", xmpp::ns::roster).attr("jid") == jid;
    };
}

Match result_of(std::string id)
{
    return [=](const xml::Stanza& s) { return s.name() == "iq" && s.id() == id; };
}

xml::Element item_of(const xml::Stanza& push)
{
    return push.root().child("query", xmpp::ns::roster).child("item", xmpp::ns::roster);
}

// Nothing at all arrives for a while.
void expect_quiet(XmppClient& client)
{
    CHECK_THROWS(client.next(300ms));
}

void roster_get(XmppClient& client)
{
    client.send("<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>");
    const xml::Stanza reply = expect(client, result_of("roster"), "the roster");
    REQUIRE(reply.type() == "result");
}

// Initial presence; waits for its reflection.
void available(XmppClient& client, const std::string& full, const std::string& extra = {})
{
    client.send("<presence>" + extra + "</presence>");
    expect(client, presence_from(full), "own presence reflected");
}

// a and b (bare JIDs) subscribe to each other through the protocol.
void befriend(XmppClient& a, const std::string& a_bare, XmppClient& b, const std::string& b_bare)
{
    a.send("<presence to='" + b_bare + "' type='subscribe'/>");
    expect(b, presence_from(a_bare, "subscribe"), "the request");
    b.send("<presence to='" + a_bare + "' type='subscribed'/>");
    expect(a, presence_from(b_bare, "subscribed"), "the approval");
    b.send("<presence to='" + a_bare + "' type='subscribe'/>");
    expect(a, presence_from(b_bare, "subscribe"), "the request back");
    a.send("<presence to='" + b_bare + "' type='subscribed'/>");
    expect(b, presence_from(a_bare, "subscribed"), "the approval back");
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("im: messages reach full JIDs, and bare JIDs through their available resources")
    {
        Im im;
        auto alice = im.login("alice", "wonderland", "phone");
        auto bob = im.login("bob", "builder", "desk");
        auto carol = im.login("carol", "singer", "car");  // bound, but never sends presence

        alice->send("<message to='bob@localhost/desk' type='chat' id='m1'><body>to full</body></message>");
        xml::Stanza got = bob->next_stanza();
        CHECK(got.attr("from") == "alice@localhost/phone");
        CHECK(got.root().child("body", xmpp::ns::client).text() == "to full");

        // Without presence nobody is there for the bare JID (no offline storage yet).
        alice->send("<message to='bob@localhost' type='chat' id='m2'><body>to bare</body></message>");
        got = alice->next_stanza();
        CHECK(got.type() == "error");
        CHECK(got.id() == "m2");
        CHECK(got.root().child("error", xmpp::ns::client).child("service-unavailable", xmpp::ns::stanzas));

        available(*bob, "bob@localhost/desk");
        auto laptop = im.login("bob", "builder", "laptop");
        available(*laptop, "bob@localhost/laptop");
        expect(*bob, presence_from("bob@localhost/laptop"), "the other resource's presence");
        alice->send("<message to='bob@localhost' type='chat' id='m3'><body>to bare</body></message>");
        for (auto* client : {bob.get(), laptop.get()}) {
            got = expect(*client, [](const xml::Stanza& s) { return s.name() == "message"; }, "the message");
            CHECK(got.id() == "m3");
            CHECK(got.attr("from") == "alice@localhost/phone");
        }
        // A full JID reaches a connected resource even without presence.
        alice->send("<message to='carol@localhost/car' type='chat' id='m4'><body>hi</body></message>");
        CHECK(carol->next_stanza().id() == "m4");
        expect_quiet(*alice);
    }

    TEST_CASE("im: a Jingle session-initiate IQ between full JIDs and its result")
    {
        Im im;
        auto alice = im.login("alice", "wonderland", "phone");
        auto bob = im.login("bob", "builder", "desk");
        alice->send("<iq to='bob@localhost/desk' type='set' id='jingle1'>"
                    "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='alice@localhost/phone' sid='a73sjjvkla37jfea'>"
                    "<content creator='initiator' name='voice'>"
                    "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'><payload-type id='111' name='opus' clockrate='48000' channels='2'/></description>"
                    "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'/>"
                    "</content></jingle></iq>");
        const xml::Stanza request = bob->next_stanza();
        CHECK(request.name() == "iq");
        CHECK(request.type() == "set");
        CHECK(request.attr("from") == "alice@localhost/phone");
        const xml::Element jingle = request.root().child("jingle", "urn:xmpp:jingle:1");
        CHECK(jingle.attr("sid") == "a73sjjvkla37jfea");
        CHECK(jingle.child("content", "urn:xmpp:jingle:1").child("transport", "urn:xmpp:jingle:transports:ice-udp:1")
                  .attr("ufrag") == "8hhy");

        bob->send("<iq to='alice@localhost/phone' type='result' id='jingle1'/>");
        const xml::Stanza result = alice->next_stanza();
        CHECK(result.type() == "result");
        CHECK(result.id() == "jingle1");
        CHECK(result.attr("from") == "bob@localhost/desk");

        // To a resource that is not there: service-unavailable (RFC 6121 §8.5.3.2.1).
        alice->send("<iq to='bob@localhost/gone' type='set' id='jingle2'><jingle xmlns='urn:xmpp:jingle:1'/></iq>");
        const xml::Stanza error = alice->next_stanza();
        CHECK(error.type() == "error");
        CHECK(error.root().child("error", xmpp::ns::client).child("service-unavailable", xmpp::ns::stanzas));
    }

    TEST_CASE("im: the subscription handshake, with roster pushes and presence exchanged")
    {
        Im im;
        auto alice = im.login("alice", "wonderland", "phone");
        auto bob = im.login("bob", "builder", "desk");
        roster_get(*alice);
        roster_get(*bob);
        available(*alice, "alice@localhost/phone", "<status>around</status>");
        available(*bob, "bob@localhost/desk");

        alice->send("<presence to='bob@localhost' type='subscribe'/>");
        xml::Stanza push = expect(*alice, push_of("bob@localhost"), "alice's push");
        CHECK(item_of(push).attr("subscription") == "none");
        CHECK(item_of(push).attr("ask") == "subscribe");
        alice->send("<iq type='result' id='" + std::string(push.id()) + "'/>");  // clients answer pushes
        const xml::Stanza request = expect(*bob, presence_from("alice@localhost", "subscribe"), "the request");
        CHECK(request.to() == "bob@localhost");

        bob->send("<presence to='alice@localhost' type='subscribed'/>");
        push = expect(*bob, push_of("alice@localhost"), "bob's push");
        CHECK(item_of(push).attr("subscription") == "from");
        push = expect(*alice, push_of("bob@localhost"), "alice's second push");
        CHECK(item_of(push).attr("subscription") == "to");
        CHECK_FALSE(item_of(push).has_attr("ask"));
        expect(*alice, presence_from("bob@localhost", "subscribed"), "the approval");
        expect(*alice, presence_from("bob@localhost/desk"), "bob's presence");

        bob->send("<presence to='alice@localhost' type='subscribe'/>");
        expect(*alice, presence_from("bob@localhost", "subscribe"), "bob's request");
        alice->send("<presence to='bob@localhost' type='subscribed'/>");
        const xml::Stanza alice_presence = expect(*bob, presence_from("alice@localhost/phone"), "alice's presence");
        CHECK(alice_presence.root().child("status", xmpp::ns::client).text() == "around");

        alice->send("<iq type='get' id='r2'><query xmlns='jabber:iq:roster'/></iq>");
        const xml::Stanza roster = expect(*alice, result_of("r2"), "the roster");
        const xml::Element item = roster.root().child("query", xmpp::ns::roster).child("item", xmpp::ns::roster);
        CHECK(item.attr("jid") == "bob@localhost");
        CHECK(item.attr("subscription") == "both");
        const std::string version(roster.root().child("query", xmpp::ns::roster).attr("ver"));
        CHECK_FALSE(version.empty());
        // Roster versioning: the current version gets an empty result.
        alice->send("<iq type='get' id='r3'><query xmlns='jabber:iq:roster' ver='" + version + "'/></iq>");
        const xml::Stanza current = expect(*alice, result_of("r3"), "the empty result");
        CHECK(current.type() == "result");
        CHECK(current.root().child_count() == 0);

        // Presence updates now flow both ways.
        bob->send("<presence><show>away</show></presence>");
        const xml::Stanza update = expect(*alice, presence_from("bob@localhost/desk"), "bob's update");
        CHECK(update.root().child("show", xmpp::ns::client).text() == "away");
    }

    TEST_CASE("im: a request made while the contact is offline arrives with its next initial presence")
    {
        Im im;
        auto alice = im.login("alice", "wonderland", "phone");
        alice->send("<presence to='carol@localhost' type='subscribe'><status>it's alice</status></presence>");
        auto carol = im.login("carol", "singer", "car");
        carol->send("<presence/>");
        const xml::Stanza request = expect(*carol, presence_from("alice@localhost", "subscribe"), "the stored request");
        CHECK(request.root().child("status", xmpp::ns::client).text() == "it's alice");
    }

    TEST_CASE("im: roster changes are pushed to every interested resource of the account")
    {
        Im im;
        auto phone = im.login("alice", "wonderland", "phone");
        auto laptop = im.login("alice", "wonderland", "laptop");
        auto tablet = im.login("alice", "wonderland", "tablet");  // never asks for the roster
        roster_get(*phone);
        roster_get(*laptop);
        phone->send("<iq type='set' id='add'><query xmlns='jabber:iq:roster'>"
                    "<item jid='carol@localhost' name='Carol'><group>Choir</group></item></query></iq>");
        CHECK(expect(*phone, result_of("add"), "the result").type() == "result");
        for (auto* client : {phone.get(), laptop.get()}) {
            const xml::Stanza push = expect(*client, push_of("carol@localhost"), "the push");
            CHECK(item_of(push).attr("name") == "Carol");
            CHECK(item_of(push).child("group", xmpp::ns::roster).text() == "Choir");
            CHECK(push.root().child("query", xmpp::ns::roster).attr("ver") == "1");
        }
        expect_quiet(*tablet);

        laptop->send("<iq type='set' id='del'><query xmlns='jabber:iq:roster'>"
                     "<item jid='carol@localhost' subscription='remove'/></query></iq>");
        CHECK(expect(*laptop, result_of("del"), "the result").type() == "result");
        for (auto* client : {phone.get(), laptop.get()})
            CHECK(item_of(expect(*client, push_of("carol@localhost"), "the removal")).attr("subscription") == "remove");

        phone->send("<iq type='set' id='bad'><query xmlns='jabber:iq:roster'>"
                    "<item jid='bob@localhost'><group>A</group><group>A</group></item></query></iq>");
        const xml::Stanza bad = expect(*phone, result_of("bad"), "the error");
        CHECK(bad.root().child("error", xmpp::ns::client).child("bad-request", xmpp::ns::stanzas));
    }

    TEST_CASE("im: directed presence, and unavailable to everyone concerned when a connection drops")
    {
        Im im;
        auto alice = im.login("alice", "wonderland", "phone");
        auto bob = im.login("bob", "builder", "desk");
        auto carol = im.login("carol", "singer", "car");
        available(*alice, "alice@localhost/phone");
        available(*bob, "bob@localhost/desk");
        befriend(*alice, "alice@localhost", *bob, "bob@localhost");

        // Carol is no contact of alice's: directed presence reaches her all the same.
        alice->send("<presence to='carol@localhost/car'><status>for carol</status></presence>");
        const xml::Stanza directed = expect(*carol, presence_from("alice@localhost/phone"), "the directed presence");
        CHECK(directed.root().child("status", xmpp::ns::client).text() == "for carol");

        // The TCP connection goes away without </stream:stream> or unavailable presence.
        alice.reset();
        expect(*bob, presence_from("alice@localhost/phone", "unavailable"), "unavailable to the subscriber");
        expect(*carol, presence_from("alice@localhost/phone", "unavailable"), "unavailable to the directed recipient");

        // Bob now sees alice's bare JID as unreachable.
        bob->send("<message to='alice@localhost' type='chat' id='late'><body>?</body></message>");
        const xml::Stanza bounce = expect(*bob, [](const xml::Stanza& s) { return s.id() == "late"; }, "the bounce");
        CHECK(bounce.type() == "error");
    }

    TEST_CASE("im: carbons copy sent and received chats to the account's other resources")
    {
        Im im;
        auto phone = im.login("alice", "wonderland", "phone");
        auto laptop = im.login("alice", "wonderland", "laptop");
        auto bob = im.login("bob", "builder", "desk");
        laptop->send("<iq type='set' id='carbons'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
        CHECK(expect(*laptop, result_of("carbons"), "the result").type() == "result");

        phone->send("<message to='bob@localhost/desk' type='chat' id='c1'><body>sent from phone</body></message>");
        CHECK(bob->next_stanza().id() == "c1");
        xml::Stanza copy = laptop->next_stanza();
        CHECK(copy.attr("from") == "alice@localhost");
        CHECK(copy.to() == "alice@localhost/laptop");
        xml::Element forwarded = copy.root().child("sent", xmpp::ns::carbons).child("forwarded", xmpp::ns::forward);
        CHECK(forwarded.child("message", xmpp::ns::client).attr("id") == "c1");
        CHECK(forwarded.child("message", xmpp::ns::client).child("body", xmpp::ns::client).text() == "sent from phone");

        bob->send("<message to='alice@localhost/phone' type='chat' id='c2'><body>reply</body></message>");
        CHECK(phone->next_stanza().id() == "c2");
        copy = laptop->next_stanza();
        forwarded = copy.root().child("received", xmpp::ns::carbons).child("forwarded", xmpp::ns::forward);
        CHECK(forwarded.child("message", xmpp::ns::client).attr("from") == "bob@localhost/desk");

        // <private/> keeps a message out of the copies; so does turning carbons off.
        phone->send("<message to='bob@localhost/desk' type='chat' id='c3'><body>secret</body>"
                    "<private xmlns='urn:xmpp:carbons:2'/></message>");
        CHECK(bob->next_stanza().id() == "c3");
        laptop->send("<iq type='set' id='off'><disable xmlns='urn:xmpp:carbons:2'/></iq>");
        CHECK(expect(*laptop, result_of("off"), "the result").type() == "result");
        bob->send("<message to='alice@localhost/phone' type='chat' id='c4'><body>more</body></message>");
        CHECK(phone->next_stanza().id() == "c4");
        expect_quiet(*laptop);
        expect_quiet(*phone);
    }

    TEST_CASE("im: the server advertises carbons in disco and roster versioning in the stream features")
    {
        Im im;
        auto client = std::make_unique<XmppClient>(im.server.starttls_port());
        client->open_stream();
        client->starttls();
        REQUIRE(client->scram("SCRAM-SHA-256", "alice", "wonderland") == "success");
        const xml::Stanza features = client->open_stream();
        CHECK(features.root().child("ver", xmpp::ns::roster_versioning));
        REQUIRE(client->bind("x") == "alice@localhost/x");
        client->send("<iq type='get' id='d' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
        const xml::Stanza info = client->next_stanza();
        bool carbons = false;
        for (const auto feature : info.root().child("query", xmpp::ns::disco_info).children())
            carbons = carbons || feature.attr("var") == xmpp::ns::carbons;
        CHECK(carbons);
    }
}
