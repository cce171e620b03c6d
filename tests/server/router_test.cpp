// Where the router sends stanzas: IQs to the server's handlers with the right Target, messages and
// presence by RFC 6121 §8.5 (a table of address and type cases), and XEP-0280 carbon copies.
#include <doctest/doctest.h>

#include "envelopes.hpp"
#include "im_world.hpp"
#include "server/router.hpp"

using namespace tern;
using namespace tern::server;

namespace {

struct Recorder final : ClientHandle {
    std::vector<std::string> delivered;
    void deliver(Envelope s) override { delivered.emplace_back(s.bytes()); }
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
        Envelopes reply;
        IqReply pending;
        const Requester sender{romeo, "192.0.2.1", 1, nullptr};
        router.route(std::move(*stanza), RouteContext{sender, config, dispatcher, {}, reply, pending});
        if (pending.valid()) {
            if (auto answer = test::await_now(std::move(pending))) reply.push_back(std::move(*answer));
        }
        return test::joined(reply);
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

using test::Routing;
using test::error_condition;

struct Case {
    const char* stanza;                  // sent by romeo/orchard
    std::vector<std::string> receivers;  // full JIDs that get exactly the stanza
    const char* error;                   // condition of the error romeo/orchard gets back, "" for none
};

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

    TEST_CASE("router: a message to a bare JID reaches each resource as one shared envelope")
    {
        Routing r;
        auto& tower = r.world.connect("juliet@montague.lit/tower");
        r.world.send(tower, "<presence/>");
        for (auto* s : {&r.balcony, &tower}) s->take();
        r.world.send(r.orchard, "<message to='juliet@montague.lit' type='chat' id='s1'><body>x</body></message>");
        REQUIRE(r.balcony.handle->envelopes.size() == 1);
        REQUIRE(tower.handle->envelopes.size() == 1);
        const Envelope& e = r.balcony.handle->envelopes[0];
        CHECK(e.same_stanza(tower.handle->envelopes[0]));
        CHECK(e.kind() == StanzaKind::Message);
        CHECK(e.to() == "juliet@montague.lit");
        CHECK(e.from() == "romeo@montague.lit/orchard");
        CHECK(e.type() == "chat");
        CHECK(e.id() == "s1");
    }

    TEST_CASE("router: a component's domain goes to the component, every other domain to the remote destination")
    {
        struct Recording final : Destination {
            Envelopes got;
            void deliver(const Envelope& stanza, const RouteContext&) override { got.push_back(stanza); }
        };
        Routing r;
        auto remote = std::make_shared<Recording>();
        auto component = std::make_shared<Recording>();
        r.world.router.set_remote(remote);
        r.world.router.add_component("conference.montague.lit", component);

        r.world.send(r.orchard, "<message to='room@conference.montague.lit' type='groupchat' id='g'><body>x</body></message>");
        r.world.send(r.orchard, "<message to='tybalt@capulet.lit/x' type='chat' id='c'><body>x</body></message>");
        r.world.send(r.orchard, "<presence to='capulet.lit'/>");
        r.world.send(r.orchard, "<iq to='capulet.lit' type='get' id='v'><query xmlns='jabber:iq:version'/></iq>");
        CHECK(r.orchard.take().empty());  // nothing answered here: the destinations took them
        REQUIRE(component->got.size() == 1);
        CHECK(component->got[0].id() == "g");
        CHECK(component->got[0].to() == "room@conference.montague.lit");
        REQUIRE(remote->got.size() == 3);
        CHECK(remote->got[0].to() == "tybalt@capulet.lit/x");
        CHECK(remote->got[0].from() == "romeo@montague.lit/orchard");
        CHECK(remote->got[0].bytes().find("<body>x</body>") != std::string::npos);
        CHECK(remote->got[1].is(StanzaKind::Presence));
        CHECK(remote->got[2].is_request());
        // Local domains never leave the server.
        r.world.send(r.orchard, "<message to='juliet@montague.lit/balcony' type='chat'><body>x</body></message>");
        CHECK(remote->got.size() == 3);
        CHECK(r.balcony.take().size() == 1);
    }

    TEST_CASE("router: until federation, a remote domain answers remote-server-not-found with the IQ payload")
    {
        Routing r;
        r.world.send(r.orchard, "<iq to='capulet.lit' type='get' id='v'><query xmlns='jabber:iq:version'/></iq>");
        const auto got = r.orchard.take();
        REQUIRE(got.size() == 1);
        CHECK(error_condition(got[0]) == "remote-server-not-found");
        CHECK(got[0].from() == "capulet.lit");
        CHECK(got[0].id() == "v");
        CHECK(got[0].root().child("query", "jabber:iq:version"));
        r.world.send(r.orchard, "<iq to='capulet.lit' type='result' id='w'/>");
        r.world.send(r.orchard, "<message to='capulet.lit' type='error'/>");
        CHECK(r.orchard.take().empty());
    }
}
