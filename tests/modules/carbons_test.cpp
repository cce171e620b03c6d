// XEP-0280 as a module: the enable/disable IQs and the copies made on the on-deliver hook, through a real
// router with recorded sessions (the router itself knows nothing of carbons).
#include <doctest/doctest.h>

#include "../server/im_world.hpp"
#include "modules/registrations.hpp"

using namespace tern;
using namespace tern::server;

namespace {

// The router's fixture with carbons registered as ternd does.
struct Routing : test::Routing {
    Routing() : test::Routing([](test::World& w) { modules::register_carbons(w.dispatcher, w.hooks); }) {}
};

}  // namespace

TEST_SUITE("modules")
{
    TEST_CASE("carbons: copy chats to the other resources that enabled them")
    {
        Routing r;
        auto& tomb = r.world.connect("juliet@montague.lit/tomb");  // connected, no presence, carbons on
        for (auto* s : {&r.garden, &r.chamber, &tomb}) r.world.services().set_carbons(s->requester(), true);

        r.world.send(r.orchard, "<message to='juliet@montague.lit/balcony' type='chat' id='c1'><body>hi</body></message>");
        CHECK(r.balcony.take().size() == 1);
        for (auto* s : {&r.chamber, &tomb}) {
            const auto got = s->take();
            REQUIRE(got.size() == 1);
            CHECK(got[0].from() == "juliet@montague.lit");
            CHECK(got[0].to() == s->jid.str());
            CHECK(got[0].type() == "chat");
            const auto forwarded = got[0].root().child("received", "urn:xmpp:carbons:2").child("forwarded", "urn:xmpp:forward:0");
            const auto original = forwarded.child("message", "jabber:client");
            CHECK(original.attr("id") == "c1");
            CHECK(original.attr("from") == "romeo@montague.lit/orchard");
            CHECK(original.child("body", "jabber:client").text() == "hi");
        }
        const auto sent = r.garden.take();
        REQUIRE(sent.size() == 1);
        CHECK(sent[0].from() == "romeo@montague.lit");
        CHECK(sent[0].to() == "romeo@montague.lit/garden");
        CHECK(sent[0].root().child("sent", "urn:xmpp:carbons:2").child("forwarded", "urn:xmpp:forward:0")
                  .child("message", "jabber:client").attr("to") == "juliet@montague.lit/balcony");
        CHECK(r.orchard.take().empty());  // the sender gets no copy of its own message
    }

    TEST_CASE("carbons: a message to a bare JID is copied only to carbons resources that did not get it")
    {
        Routing r;
        for (auto* s : {&r.balcony, &r.chamber}) r.world.services().set_carbons(s->requester(), true);
        r.world.send(r.orchard, "<message to='juliet@montague.lit' type='chat'><body>hi</body></message>");
        const auto balcony = r.balcony.take();
        REQUIRE(balcony.size() == 1);
        CHECK(balcony[0].root().child("body", "jabber:client"));
        const auto chamber = r.chamber.take();
        REQUIRE(chamber.size() == 1);
        CHECK(chamber[0].root().child("received", "urn:xmpp:carbons:2"));
    }

    TEST_CASE("carbons: skip private, no-copy, bodiless normal, headline, error and same-account messages")
    {
        Routing r;
        for (auto* s : {&r.garden, &r.chamber}) r.world.services().set_carbons(s->requester(), true);
        const char* not_copied[] = {
            "<message to='juliet@montague.lit/balcony' type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/></message>",
            "<message to='juliet@montague.lit/balcony' type='chat'><body>x</body><no-copy xmlns='urn:xmpp:hints'/></message>",
            "<message to='juliet@montague.lit/balcony'><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
            "<message to='juliet@montague.lit/balcony' type='headline'><body>x</body></message>",
            "<message to='juliet@montague.lit/balcony' type='error'><body>x</body></message>",
            "<message to='romeo@montague.lit' type='chat'><body>x</body></message>",
        };
        for (const char* text : not_copied) {
            CAPTURE(text);
            r.world.send(r.orchard, text);
            CHECK(r.chamber.take().empty());
            const auto garden = r.garden.take();
            for (const auto& s : garden) CHECK_FALSE(s.root().child("sent", "urn:xmpp:carbons:2"));
            r.balcony.take();
            r.orchard.take();
        }
        // A normal message with a body is copied; disabling stops the copies.
        r.world.send(r.orchard, "<message to='juliet@montague.lit/balcony'><body>x</body></message>");
        CHECK(r.chamber.take().size() == 1);
        r.world.services().set_carbons(r.chamber.requester(), false);
        r.world.send(r.orchard, "<message to='juliet@montague.lit/balcony' type='chat'><body>x</body></message>");
        CHECK(r.chamber.take().empty());
    }

    TEST_CASE("carbons: the copy wraps the original bytes, shared with the delivery, in received and forwarded")
    {
        Routing r;
        r.world.services().set_carbons(r.chamber.requester(), true);
        r.world.send(r.orchard, "<message to='juliet@montague.lit/balcony' type='chat'><body>a&amp;b</body></message>");
        REQUIRE(r.balcony.handle->envelopes.size() == 1);
        const Envelope& original = r.balcony.handle->envelopes[0];
        REQUIRE(r.chamber.handle->envelopes.size() == 1);
        const Envelope& copy = r.chamber.handle->envelopes[0];
        CHECK(copy.bytes() == "<message from='juliet@montague.lit' to='juliet@montague.lit/chamber' type='chat'>"
                              "<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>" +
                                  std::string(original.bytes()) + "</forwarded></received></message>");
        CHECK(copy.is(StanzaKind::Message));
        CHECK(copy.from() == "juliet@montague.lit");
        CHECK(copy.to() == "juliet@montague.lit/chamber");
        CHECK(copy.type() == "chat");
    }

    TEST_CASE("carbons: enabling and disabling are IQ sets answered with an empty result")
    {
        Routing r;
        r.world.send(r.chamber, "<iq type='set' id='e'><enable xmlns='urn:xmpp:carbons:2'/></iq>");
        auto got = r.chamber.take();
        REQUIRE(got.size() == 1);
        CHECK(got[0].type() == "result");
        r.world.send(r.orchard, "<message to='juliet@montague.lit/balcony' type='chat'><body>x</body></message>");
        CHECK(r.chamber.take().size() == 1);
        r.world.send(r.chamber, "<iq type='set' id='d'><disable xmlns='urn:xmpp:carbons:2'/></iq>");
        got = r.chamber.take();
        REQUIRE(got.size() == 1);
        CHECK(got[0].type() == "result");
        r.world.send(r.orchard, "<message to='juliet@montague.lit/balcony' type='chat'><body>x</body></message>");
        CHECK(r.chamber.take().empty());
    }

    TEST_CASE("carbons: without the module registered the router makes no copies")
    {
        test::World world;
        auto& orchard = world.connect("romeo@montague.lit/orchard");
        auto& balcony = world.connect("juliet@montague.lit/balcony");
        auto& chamber = world.connect("juliet@montague.lit/chamber");
        world.services().set_carbons(chamber.requester(), true);
        world.send(orchard, "<message to='juliet@montague.lit/balcony' type='chat'><body>x</body></message>");
        CHECK(balcony.take().size() == 1);
        CHECK(chamber.take().empty());
    }

    TEST_CASE("carbons: chat, and normal with a body, are copied; the rest, private, no-copy and copies are not")
    {
        const std::vector<std::pair<const char*, bool>> cases = {
            {"<message to='juliet@montague.lit/balcony' type='chat'/>", true},
            {"<message to='juliet@montague.lit/balcony' type='chat'><body>x</body></message>", true},
            {"<message to='juliet@montague.lit/balcony'><body>x</body></message>", true},
            {"<message to='juliet@montague.lit/balcony' type='normal'><body>x</body></message>", true},
            {"<message to='juliet@montague.lit/balcony'/>", false},
            {"<message to='juliet@montague.lit/balcony'><body xmlns='urn:other'>x</body></message>", false},
            {"<message to='juliet@montague.lit/balcony' type='headline'><body>x</body></message>", false},
            {"<message to='juliet@montague.lit/chamber' type='groupchat'><body>x</body></message>", false},
            {"<message to='juliet@montague.lit/balcony' type='chat'><sent xmlns='urn:xmpp:carbons:2'/></message>", false},
            {"<message to='juliet@montague.lit/balcony' type='chat'><received xmlns='urn:xmpp:carbons:2'/></message>", false},
            {"<message to='juliet@montague.lit/balcony' type='chat'><private xmlns='urn:other'/><no-store xmlns='urn:xmpp:hints'/></message>", true},
        };
        for (const auto& [text, copied] : cases) {
            CAPTURE(text);
            Routing r;
            r.world.services().set_carbons(r.garden.requester(), true);
            r.world.send(r.orchard, text);
            const auto sent = r.garden.take();
            CHECK(sent.size() == (copied ? 1u : 0u));
            if (copied && !sent.empty()) CHECK(sent[0].root().child("sent", "urn:xmpp:carbons:2"));
        }
    }
}
