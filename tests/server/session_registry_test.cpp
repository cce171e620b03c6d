#include <doctest/doctest.h>

#include "server/session_registry.hpp"

using namespace tern;
using namespace tern::server;

namespace {

struct FakeClient : ClientHandle {
    std::vector<std::string> delivered;
    void deliver(Envelope s) override { delivered.emplace_back(s.bytes()); }
    void kick(xmpp::StreamErrorCondition, std::string) override {}
};

xmpp::Jid jid(std::string_view s)
{
    return *xmpp::Jid::parse(s);
}

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("registry binds, finds and lists resources")
    {
        SessionRegistry registry(5);
        auto a = std::make_shared<FakeClient>();
        auto b = std::make_shared<FakeClient>();
        CHECK(registry.bind(jid("alice@x/a"), a).outcome == BindOutcome::Bound);
        CHECK(registry.bind(jid("alice@x/b"), b).outcome == BindOutcome::Bound);
        CHECK(registry.find(jid("alice@x/a")) == a);
        CHECK(registry.find(jid("alice@x/c")) == nullptr);
        CHECK(registry.resources(jid("alice@x")).size() == 2);
        CHECK(registry.size() == 2);
    }

    TEST_CASE("registry: the newest session wins and the older one is returned")
    {
        SessionRegistry registry(5);
        auto older = std::make_shared<FakeClient>();
        auto newer = std::make_shared<FakeClient>();
        registry.bind(jid("alice@x/r"), older);
        const auto result = registry.bind(jid("alice@x/r"), newer);
        CHECK(result.outcome == BindOutcome::Bound);
        CHECK(result.replaced == older);
        CHECK(registry.find(jid("alice@x/r")) == newer);
        // The older session's unbind must not remove the newer entry.
        registry.unbind(jid("alice@x/r"), older.get());
        CHECK(registry.find(jid("alice@x/r")) == newer);
        registry.unbind(jid("alice@x/r"), newer.get());
        CHECK(registry.find(jid("alice@x/r")) == nullptr);
        CHECK(registry.size() == 0);
    }

    TEST_CASE("registry enforces the resource limit per account")
    {
        SessionRegistry registry(1);
        CHECK(registry.bind(jid("alice@x/1"), std::make_shared<FakeClient>()).outcome == BindOutcome::Bound);
        CHECK(registry.bind(jid("alice@x/2"), std::make_shared<FakeClient>()).outcome == BindOutcome::ResourceLimit);
        CHECK(registry.bind(jid("bob@x/1"), std::make_shared<FakeClient>()).outcome == BindOutcome::Bound);
    }

    TEST_CASE("registry update changes an entry only for the session that owns it")
    {
        SessionRegistry registry(5);
        auto a = std::make_shared<FakeClient>();
        auto other = std::make_shared<FakeClient>();
        registry.bind(jid("alice@x/a"), a);
        CHECK(registry.update(jid("alice@x/a"), a.get(), [](SessionRegistry::Resource& r) {
            r.available = true;
            r.priority = -3;
            r.carbons = true;
        }));
        CHECK_FALSE(registry.update(jid("alice@x/a"), other.get(), [](SessionRegistry::Resource& r) { r.priority = 9; }));
        CHECK_FALSE(registry.update(jid("alice@x/b"), a.get(), [](SessionRegistry::Resource&) {}));
        CHECK_FALSE(registry.update(jid("bob@x/a"), a.get(), [](SessionRegistry::Resource&) {}));
        const auto listed = registry.resources(std::string("alice@x"));
        REQUIRE(listed.size() == 1);
        CHECK(listed[0].available);
        CHECK(listed[0].priority == -3);
        CHECK(listed[0].carbons);
        CHECK_FALSE(listed[0].interested);
    }

    TEST_CASE("registry: a newer session for the same resource starts without the older one's state")
    {
        SessionRegistry registry(5);
        auto older = std::make_shared<FakeClient>();
        registry.bind(jid("alice@x/r"), older);
        registry.update(jid("alice@x/r"), older.get(), [](SessionRegistry::Resource& r) {
            r.available = true;
            r.interested = true;
            r.presence = Envelope::make({StanzaKind::Presence, {}, "alice@x/r", {}, {}}, "<presence/>");
        });
        auto newer = std::make_shared<FakeClient>();
        registry.bind(jid("alice@x/r"), newer);
        const auto listed = registry.resources(jid("alice@x"));
        REQUIRE(listed.size() == 1);
        CHECK(listed[0].client == newer);
        CHECK_FALSE(listed[0].available);
        CHECK_FALSE(listed[0].interested);
        CHECK_FALSE(listed[0].presence);
        CHECK_FALSE(registry.update(jid("alice@x/r"), older.get(), [](SessionRegistry::Resource& r) { r.available = true; }));
    }
}
