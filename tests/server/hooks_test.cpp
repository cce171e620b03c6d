// Each hook point as the router runs it: pre-route (drop or answer), on-deliver (what was handed to
// whom), undeliverable (a hook takes it, or RFC 6121 §8.5's default answer), archive (once per message),
// and the session hooks (reload, tick).
#include <doctest/doctest.h>

#include "im_world.hpp"
#include "server/hooks.hpp"

using namespace tern;
using namespace tern::server;
using test::error_condition;

namespace {

// romeo/orchard sends; juliet/balcony is available; nurse exists but is offline.
struct Hooked {
    test::World world;
    test::Client& orchard = world.connect("romeo@montague.lit/orchard");
    test::Client& balcony = world.connect("juliet@montague.lit/balcony");

    Hooked()
    {
        world.send(orchard, "<presence/>");
        world.send(balcony, "<presence/>");
        orchard.take();
        balcony.take();
    }
};

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("pre-route hooks see every stanza first and may drop it or answer it")
    {
        Hooked h;
        std::vector<std::string> seen;
        // A blocking-like hook: drops messages to nurse, answers those to juliet with not-acceptable when
        // marked, lets the rest pass.
        h.world.hooks.add(StanzaHooks{.pre_route = [&](const xml::Stanza& stanza, const StanzaContext& context) {
            seen.emplace_back(stanza.name());
            CHECK(context.sender.jid == h.orchard.jid);
            if (stanza.to() == "nurse@montague.lit") return HookResult::Taken;
            if (stanza.root().child("blocked", "urn:test")) {
                if (auto error = error_reply(stanza, xmpp::StanzaError::of(xmpp::StanzaErrorCondition::NotAcceptable)))
                    context.reply.push_back(std::move(*error));
                return HookResult::Taken;
            }
            return HookResult::Continue;
        }});
        int later = 0;
        h.world.hooks.add(StanzaHooks{.pre_route = [&](const xml::Stanza&, const StanzaContext&) {
            ++later;
            return HookResult::Continue;
        }});

        h.world.send(h.orchard, "<message to='nurse@montague.lit' type='chat'><body>x</body></message>");
        CHECK(h.orchard.take().empty());  // dropped: not even the default service-unavailable
        CHECK(later == 0);                // the first hook that takes it ends the run

        h.world.send(h.orchard, "<message to='juliet@montague.lit' type='chat'><body>x</body><blocked xmlns='urn:test'/></message>");
        CHECK(h.balcony.take().empty());
        const auto answer = h.orchard.take();
        REQUIRE(answer.size() == 1);
        CHECK(error_condition(answer[0]) == "not-acceptable");
        CHECK(answer[0].from() == "juliet@montague.lit");

        h.world.send(h.orchard, "<message to='juliet@montague.lit' type='chat'><body>x</body></message>");
        CHECK(h.balcony.take().size() == 1);
        CHECK(later == 1);
        h.world.send(h.orchard, "<iq type='get' id='p' to='montague.lit'><ping xmlns='urn:xmpp:ping'/></iq>");
        CHECK(seen == std::vector<std::string>{"message", "message", "message", "iq"});
    }

    TEST_CASE("on-deliver hooks learn which resources got the message, and get the envelope they got")
    {
        Hooked h;
        auto& chamber = h.world.connect("juliet@montague.lit/chamber");  // connected, no presence
        std::vector<std::string> accounts;
        std::vector<std::vector<std::pair<std::string, bool>>> got;
        h.world.hooks.add(StanzaHooks{.on_deliver = [&](const Delivery& d, const StanzaContext& context) {
            accounts.push_back(d.account);
            std::vector<std::pair<std::string, bool>> row;
            for (std::size_t i = 0; i < d.resources.size(); ++i) row.emplace_back(d.resources[i].resource, d.delivered[i]);
            std::sort(row.begin(), row.end());
            got.push_back(row);
            CHECK(d.stanza.name() == "message");
            CHECK(d.envelope.from() == "romeo@montague.lit/orchard");
            CHECK(context.sessions.resources(std::string("juliet@montague.lit")).size() == 2);
        }});

        h.world.send(h.orchard, "<message to='juliet@montague.lit' type='chat'><body>x</body></message>");
        h.world.send(h.orchard, "<message to='juliet@montague.lit/chamber' type='chat'><body>y</body></message>");
        REQUIRE(accounts == std::vector<std::string>{"juliet@montague.lit", "juliet@montague.lit"});
        CHECK(got[0] == std::vector<std::pair<std::string, bool>>{{"balcony", true}, {"chamber", false}});
        CHECK(got[1] == std::vector<std::pair<std::string, bool>>{{"balcony", false}, {"chamber", true}});
        CHECK(h.balcony.handle->envelopes.size() == 1);
        CHECK(chamber.handle->envelopes.size() == 1);

        // Nothing delivered, nothing reported: presence, IQs and undeliverable messages.
        h.world.send(h.orchard, "<message to='nurse@montague.lit' type='chat'><body>x</body></message>");
        h.world.send(h.orchard, "<presence to='juliet@montague.lit'/>");
        CHECK(accounts.size() == 2);
    }

    TEST_CASE("undeliverable hooks may take what nobody is there for; else the default answer stands")
    {
        Hooked h;
        std::vector<std::string> offered;
        bool store = true;
        h.world.hooks.add(StanzaHooks{.undeliverable = [&](const Envelope& e, const StanzaContext&) {
            offered.push_back(std::string(e.name()) + ":" + std::string(e.to()) + ":" + std::string(e.type()));
            CHECK(e.from() == "romeo@montague.lit/orchard");
            CHECK(e.bytes().find("<body") != std::string::npos);
            return store ? HookResult::Taken : HookResult::Continue;
        }});

        // An offline account: stored, so no error.
        h.world.send(h.orchard, "<message to='nurse@montague.lit' type='chat'><body>x</body></message>");
        CHECK(h.orchard.take().empty());
        // A missing resource of an offline account goes as to the bare JID, once.
        h.world.send(h.orchard, "<message to='nurse@montague.lit/tomb'><body>x</body></message>");
        CHECK(h.orchard.take().empty());
        CHECK(offered == std::vector<std::string>{"message:nurse@montague.lit:chat", "message:nurse@montague.lit/tomb:"});

        // Not taken: service-unavailable for chat and IQ requests, a headline dropped.
        store = false;
        offered.clear();
        h.world.send(h.orchard, "<message to='nurse@montague.lit' type='chat'><body>x</body></message>");
        auto got = h.orchard.take();
        REQUIRE(got.size() == 1);
        CHECK(error_condition(got[0]) == "service-unavailable");
        h.world.send(h.orchard, "<message to='nurse@montague.lit' type='headline'><body>x</body></message>");
        CHECK(h.orchard.take().empty());
        h.world.send(h.orchard, "<iq to='juliet@montague.lit/tomb' type='set' id='j'><body/></iq>");
        got = h.orchard.take();
        REQUIRE(got.size() == 1);
        CHECK(error_condition(got[0]) == "service-unavailable");
        CHECK(offered.size() == 3);

        // Delivered messages are never offered.
        h.world.send(h.orchard, "<message to='juliet@montague.lit' type='chat'><body>x</body></message>");
        CHECK(offered.size() == 3);
    }

    TEST_CASE("archive hooks see each message between accounts once, delivered or taken for later")
    {
        Hooked h;
        std::vector<std::string> archived;
        bool store = false;
        h.world.hooks.add(StanzaHooks{
            .undeliverable = [&](const Envelope&, const StanzaContext&) { return store ? HookResult::Taken : HookResult::Continue; },
            .archive = [&](const Envelope& e, const StanzaContext&) { archived.emplace_back(e.id()); },
        });
        h.world.send(h.orchard, "<message to='juliet@montague.lit' type='chat' id='1'><body>x</body></message>");
        h.world.send(h.orchard, "<message to='juliet@montague.lit/balcony' type='chat' id='2'><body>x</body></message>");
        h.world.send(h.orchard, "<message to='juliet@montague.lit/gone' type='chat' id='3'><body>x</body></message>");
        h.world.send(h.orchard, "<message to='nurse@montague.lit' type='chat' id='4'><body>x</body></message>");  // bounced
        store = true;
        h.world.send(h.orchard, "<message to='nurse@montague.lit' type='chat' id='5'><body>x</body></message>");  // stored
        h.world.send(h.orchard, "<presence to='juliet@montague.lit' id='6'/>");
        h.world.send(h.orchard, "<iq to='juliet@montague.lit/balcony' type='get' id='7'><q xmlns='urn:x'/></iq>");
        CHECK(archived == std::vector<std::string>{"1", "2", "3", "5"});
    }

    TEST_CASE("session hooks run in registration order on reload and on tick")
    {
        Hooks hooks;
        const auto push = [](std::string bytes) { return Envelope::make({StanzaKind::Iq, "a@x/r", "x", "set", "p"}, std::move(bytes)); };
        hooks.add(SessionHooks{[&](const Requester&, Envelopes& out) { out.push_back(push("<reload/>")); },
                               [&](const Requester&, std::chrono::system_clock::time_point, Envelopes& out) {
                                   out.push_back(push("<tick/>"));
                               }});
        hooks.add(SessionHooks{nullptr, [&](const Requester&, std::chrono::system_clock::time_point, Envelopes& out) {
                                   out.push_back(push("<t2/>"));
                               }});
        const xmpp::Jid jid = *xmpp::Jid::parse("a@x/r");
        const Requester requester{jid, "192.0.2.1", 1};
        Envelopes out;
        hooks.on_reload(requester, out);
        hooks.on_tick(requester, {}, out);
        REQUIRE(out.size() == 3);
        CHECK(test::joined(out) == "<reload/><tick/><t2/>");
    }
}
