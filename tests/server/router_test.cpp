// Where the router sends stanzas: IQs to the server's handlers with the right Target, messages and
// presence by RFC 6121 §8.5 (a table of address and type cases), and XEP-0280 carbon copies.
#include <doctest/doctest.h>

#include "im_world.hpp"
#include "server/router.hpp"

using namespace tern;
using namespace tern::server;

namespace {

struct Recorder final : ClientHandle {
    std::vector<std::string> delivered;
    void deliver(std::string s) override { delivered.push_back(std::move(s)); }
    void kick(xmpp::StreamErrorCondition, std::string) override {}
};

struct Fixture {
    test::TempDir dir;
    SessionRegistry registry{10};
    Router router{registry, dir.path()};
    SessionConfig config;
    IqDispatcher dispatcher;
    xmpp::Jid romeo = *xmpp::Jid::parse("romeo@montague.lit/orchard");
    std::vector<Target> seen;

    Fixture()
    {
        config.domains = {"montague.lit"};
        // Answers at every target and says which one it was asked at.
        dispatcher.add("get", "urn:test", "where", Target::Both | Target::OtherAccount,
                       inline_handler([this](const IqRequest& r, xml::Writer&) -> IqResult {
                           seen.push_back(r.target);
                           return {};
                       }));
        dispatcher.add("get", "urn:test", "mine", Target::Both,
                       inline_handler([](const IqRequest&, xml::Writer&) -> IqResult { return {}; }));
    }

    std::string route(std::string_view text)
    {
        xml::NamespaceScope scope;
        scope.bind({}, "jabber:client");
        auto stanza = xml::Stanza::parse(text, scope);
        REQUIRE(stanza);
        std::string reply;
        IqReply pending;
        const Requester sender{romeo, "192.0.2.1", 1, nullptr};
        router.route(std::move(*stanza), RouteContext{sender, config, dispatcher, {}, reply, pending});
        if (pending.valid()) reply += test::await_now(std::move(pending));
        return reply;
    }
};

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("router gives IQs to the server, the own account and other accounts their targets")
    {
        Fixture f;
        f.route("<iq type='get' id='1' to='montague.lit'><where xmlns='urn:test'/></iq>");
        f.route("<iq type='get' id='2'><where xmlns='urn:test'/></iq>");
        f.route("<iq type='get' id='3' to='romeo@montague.lit'><where xmlns='urn:test'/></iq>");
        f.route("<iq type='get' id='4' to='juliet@montague.lit'><where xmlns='urn:test'/></iq>");
        CHECK(f.seen == std::vector<Target>{Target::Server, Target::Account, Target::Account, Target::OtherAccount});
    }

    TEST_CASE("router: an IQ to another account's bare JID is service-unavailable unless a handler takes it")
    {
        Fixture f;
        const std::string reply = f.route("<iq type='get' id='5' to='juliet@montague.lit'><mine xmlns='urn:test'/></iq>");
        CHECK(reply.find("type='error'") != std::string::npos);
        CHECK(reply.find("from='juliet@montague.lit'") != std::string::npos);
        CHECK(reply.find("<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>") != std::string::npos);
        CHECK(f.route("<iq type='get' id='6' to='juliet@montague.lit'><unknown xmlns='urn:other'/></iq>")
                  .find("<service-unavailable") != std::string::npos);
        CHECK(f.route("<iq type='get' id='7' to='romeo@montague.lit'><mine xmlns='urn:test'/></iq>").find("type='result'") !=
              std::string::npos);
    }

    TEST_CASE("router never answers an IQ result or error to another account's bare JID")
    {
        Fixture f;
        CHECK(f.route("<iq type='result' id='8' to='juliet@montague.lit'/>").empty());
        CHECK(f.route("<iq type='error' id='9' to='juliet@montague.lit'><where xmlns='urn:test'/></iq>").empty());
        CHECK(f.seen.empty());
    }

    TEST_CASE("router still delivers messages to another account's bare JID to its sessions")
    {
        Fixture f;
        auto juliet = std::make_shared<Recorder>();
        const xmpp::Jid balcony = *xmpp::Jid::parse("juliet@montague.lit/balcony");
        REQUIRE(f.registry.bind(balcony, juliet).outcome == BindOutcome::Bound);
        // Messages to a bare JID reach available resources (RFC 6121 §8.5.2.1.1).
        REQUIRE(f.registry.update(balcony, juliet.get(), [](SessionRegistry::Resource& r) { r.available = true; }));
        CHECK(f.route("<message to='juliet@montague.lit' from='romeo@montague.lit/orchard'><body>hi</body></message>").empty());
        REQUIRE(juliet->delivered.size() == 1);
        CHECK(juliet->delivered[0].find("<body>hi</body>") != std::string::npos);
    }

    // -----------------------------------------------------------------------------------------------
    // Messages and presence by address and type (RFC 6120 §10, RFC 6121 §8.5)
}

namespace {

// romeo/orchard (the sender, available), romeo/garden (available, priority -1), juliet/balcony
// (available, priority 1), juliet/chamber (connected, no presence); nurse exists but is offline.
struct Routing {
    test::World world;
    test::Client& orchard = world.connect("romeo@montague.lit/orchard");
    test::Client& garden = world.connect("romeo@montague.lit/garden");
    test::Client& balcony = world.connect("juliet@montague.lit/balcony");
    test::Client& chamber = world.connect("juliet@montague.lit/chamber");

    Routing()
    {
        world.send(orchard, "<presence/>");
        world.send(garden, "<presence><priority>-1</priority></presence>");
        world.send(balcony, "<presence><priority>1</priority></presence>");
        for (auto* s : all()) s->take();
    }
    std::vector<test::Client*> all() { return {&orchard, &garden, &balcony, &chamber}; }
};

struct Case {
    const char* stanza;                  // sent by romeo/orchard
    std::vector<std::string> receivers;  // full JIDs that get exactly the stanza
    const char* error;                   // condition of the error romeo/orchard gets back, "" for none
};

std::string error_condition(const xml::Stanza& s)
{
    if (s.type() != "error") return {};
    return std::string(s.root().child("error", "jabber:client").first_child_element().name());
}

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("router: messages and presence go where RFC 6121 §8.5 says, by address and type")
    {
        const std::vector<Case> cases = {
            // A bare JID: available resources with a non-negative priority (§8.5.2.1.1).
            {"<message to='juliet@montague.lit' type='chat'><body>x</body></message>", {"juliet@montague.lit/balcony"}, ""},
            {"<message to='juliet@montague.lit'><body>x</body></message>", {"juliet@montague.lit/balcony"}, ""},
            {"<message to='juliet@montague.lit' type='normal'><body>x</body></message>", {"juliet@montague.lit/balcony"}, ""},
            {"<message to='juliet@montague.lit' type='headline'><body>x</body></message>", {"juliet@montague.lit/balcony"}, ""},
            {"<message to='juliet@montague.lit' type='groupchat'><body>x</body></message>", {}, "service-unavailable"},
            {"<message to='juliet@montague.lit' type='error'><body>x</body></message>", {}, ""},
            // Negative priority: the own account's bare JID reaches only the sender itself.
            {"<message to='romeo@montague.lit' type='chat'><body>x</body></message>", {"romeo@montague.lit/orchard"}, ""},
            {"<message type='chat'><body>x</body></message>", {"romeo@montague.lit/orchard"}, ""},
            // Nobody available (§8.5.2.2.1): no offline storage, so chat and normal bounce, headline is dropped.
            {"<message to='nurse@montague.lit' type='chat'><body>x</body></message>", {}, "service-unavailable"},
            {"<message to='nurse@montague.lit'><body>x</body></message>", {}, "service-unavailable"},
            {"<message to='nurse@montague.lit' type='headline'><body>x</body></message>", {}, ""},
            {"<message to='nobody@montague.lit' type='chat'><body>x</body></message>", {}, "service-unavailable"},
            // A full JID: that connected resource, presence or not (§8.5.3.1), also with a negative priority.
            {"<message to='juliet@montague.lit/chamber' type='chat'><body>x</body></message>", {"juliet@montague.lit/chamber"}, ""},
            {"<message to='romeo@montague.lit/garden' type='chat'><body>x</body></message>", {"romeo@montague.lit/garden"}, ""},
            {"<message to='juliet@montague.lit/chamber' type='groupchat'><body>x</body></message>", {"juliet@montague.lit/chamber"}, ""},
            // No such resource (§8.5.3.2.1): chat and normal as to the bare JID; headline and error dropped;
            // groupchat bounces.
            {"<message to='juliet@montague.lit/tomb' type='chat'><body>x</body></message>", {"juliet@montague.lit/balcony"}, ""},
            {"<message to='juliet@montague.lit/tomb'><body>x</body></message>", {"juliet@montague.lit/balcony"}, ""},
            {"<message to='juliet@montague.lit/tomb' type='headline'><body>x</body></message>", {}, ""},
            {"<message to='juliet@montague.lit/tomb' type='error'><body>x</body></message>", {}, ""},
            {"<message to='juliet@montague.lit/tomb' type='groupchat'><body>x</body></message>", {}, "service-unavailable"},
            {"<message to='nurse@montague.lit/tomb' type='chat'><body>x</body></message>", {}, "service-unavailable"},
            // The server itself, other domains, bad addresses.
            {"<message to='montague.lit' type='chat'><body>x</body></message>", {}, ""},
            {"<message to='montague.lit/admin' type='chat'><body>x</body></message>", {}, "service-unavailable"},
            {"<message to='capulet.lit' type='chat'><body>x</body></message>", {}, "remote-server-not-found"},
            {"<message to='tybalt@capulet.lit/x' type='chat'><body>x</body></message>", {}, "remote-server-not-found"},
            {"<message to='a@b@c' type='chat'><body>x</body></message>", {}, "jid-malformed"},
            // IQs between full JIDs (Jingle) go to a connected resource; else service-unavailable for requests.
            {"<iq to='juliet@montague.lit/chamber' type='set' id='j1'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'/></iq>",
             {"juliet@montague.lit/chamber"}, ""},
            {"<iq to='juliet@montague.lit/chamber' type='result' id='j2'/>", {"juliet@montague.lit/chamber"}, ""},
            {"<iq to='juliet@montague.lit/tomb' type='set' id='j3'><jingle xmlns='urn:xmpp:jingle:1'/></iq>", {}, "service-unavailable"},
            {"<iq to='juliet@montague.lit/tomb' type='result' id='j4'/>", {}, ""},
            {"<iq to='juliet@montague.lit/tomb' type='error' id='j5'/>", {}, ""},
            // Directed presence: a full JID if connected, a bare JID's available resources; unknown
            // resources and the server are ignored; bad types bounce.
            {"<presence to='juliet@montague.lit/chamber'/>", {"juliet@montague.lit/chamber"}, ""},
            {"<presence to='juliet@montague.lit'/>", {"juliet@montague.lit/balcony"}, ""},
            {"<presence to='juliet@montague.lit' type='unavailable'/>", {"juliet@montague.lit/balcony"}, ""},
            {"<presence to='juliet@montague.lit/tomb'/>", {}, ""},
            {"<presence to='nurse@montague.lit'/>", {}, ""},
            {"<presence to='montague.lit'/>", {}, ""},
            {"<presence to='capulet.lit'/>", {}, "remote-server-not-found"},
            {"<presence to='juliet@montague.lit' type='bogus'/>", {}, "bad-request"},
            // A probe from someone who is not subscribed is not answered.
            {"<presence to='juliet@montague.lit' type='probe'/>", {}, ""},
        };
        for (const auto& c : cases) {
            CAPTURE(c.stanza);
            Routing r;
            r.world.send(r.orchard, c.stanza);
            std::string error;
            for (auto* s : r.all()) {
                auto got = s->take();
                const std::string jid = s->jid.str();
                if (s == &r.orchard && !got.empty() && !error_condition(got.back()).empty()) {
                    error = error_condition(got.back());
                    got.pop_back();
                }
                const bool expected = std::find(c.receivers.begin(), c.receivers.end(), jid) != c.receivers.end();
                CAPTURE(jid);
                REQUIRE(got.size() == (expected ? 1u : 0u));
                if (expected) {
                    CHECK(got[0].from() == "romeo@montague.lit/orchard");
                    CHECK(got[0].name() == std::string_view(c.stanza).substr(1, got[0].name().size()));
                }
            }
            CHECK(error == c.error);
        }
    }

    TEST_CASE("router: an error reply keeps the id and is addressed back from the intended recipient")
    {
        Routing r;
        r.world.send(r.orchard, "<message to='nurse@montague.lit' type='chat' id='m1'><body>x</body></message>");
        const auto got = r.orchard.take();
        REQUIRE(got.size() == 1);
        CHECK(got[0].id() == "m1");
        CHECK(got[0].from() == "nurse@montague.lit");
        CHECK(got[0].to() == "romeo@montague.lit/orchard");
        CHECK(error_condition(got[0]) == "service-unavailable");
    }

    TEST_CASE("router: carbons copy chats to the other resources that enabled them")
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

    TEST_CASE("router: a message to a bare JID is copied only to carbons resources that did not get it")
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

    TEST_CASE("router: carbons skip private, no-copy, bodiless normal, headline, error and same-account messages")
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
}
