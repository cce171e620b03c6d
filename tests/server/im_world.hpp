#pragma once

// A small in-memory server for router and presence tests: a registry, a router over a temporary data
// directory (roster and account databases), and sessions whose deliveries are recorded. Stanzas are sent
// as a bound session would send them ('from' stamped with the full JID).
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "envelopes.hpp"
#include "../await_now.hpp"
#include "server/router.hpp"
#include "store/accounts.hpp"
#include "xml/tokenizer.hpp"

namespace tern::test {

class TempDir {
public:
    TempDir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "tern_im_XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

struct Recorder final : server::ClientHandle {
    std::string delivered;  // everything, back to back
    server::Envelopes envelopes;  // the same, as handed over
    void deliver(server::Envelope s) override
    {
        delivered += s.bytes();
        envelopes.push_back(std::move(s));
    }
    void kick(xmpp::StreamErrorCondition, std::string) override {}
};

struct Client {
    xmpp::Jid jid;
    std::shared_ptr<Recorder> handle = std::make_shared<Recorder>();
    server::SessionState state;

    server::Requester requester() { return {jid, "192.0.2.1", 1, &state, handle.get()}; }
    // What was delivered to it since the last call, replies included.
    std::vector<xml::Stanza> take()
    {
        handle->envelopes.clear();
        return stanzas(std::exchange(handle->delivered, {}));
    }
};

class World {
public:
    explicit World(std::vector<std::string> accounts = {"romeo@montague.lit", "juliet@montague.lit",
                                                        "nurse@montague.lit", "benvolio@montague.lit"})
    {
        config.domains = {"montague.lit"};
        auto store = store::AccountStore::open((dir.path() / store::accounts_file_name).string());
        REQUIRE(store);
        for (const auto& jid : accounts) {
            const auto at = jid.find('@');
            REQUIRE(store->add(jid.substr(at + 1), jid.substr(0, at), "pw", 1, std::chrono::sys_seconds{}));
        }
    }

    Client& connect(std::string_view full)
    {
        auto session = std::make_unique<Client>();
        session->jid = *xmpp::Jid::parse(full);
        REQUIRE(registry.bind(session->jid, session->handle).outcome == server::BindOutcome::Bound);
        sessions.push_back(std::move(session));
        return *sessions.back();
    }

    // What the c2s session does when the client goes away.
    void disconnect(Client& session)
    {
        registry.unbind(session.jid, session.handle.get());
        router.session_ended(session.requester());
    }

    // Routes `text` from `session` and puts the router's reply into the session's deliveries.
    void send(Client& session, std::string_view text)
    {
        xml::NamespaceScope scope;
        scope.bind({}, "jabber:client");
        auto stanza = xml::Stanza::parse(text, scope);
        REQUIRE(stanza);
        stanza->set_attr("from", session.jid.str());
        server::Envelopes reply;
        server::IqReply pending;
        const server::Requester sender = session.requester();
        router.route(std::move(*stanza), server::RouteContext{sender, config, dispatcher, {}, reply, pending, &hooks});
        if (pending.valid()) {
            if (auto answer = await_now(std::move(pending))) reply.push_back(std::move(*answer));
        }
        for (auto& e : reply) session.handle->deliver(std::move(e));
    }

    TempDir dir;
    server::SessionConfig config;
    server::IqDispatcher dispatcher;
    server::Hooks hooks;  // none unless a test adds some
    server::SessionRegistry registry{10};
    server::Router router{registry, dir.path()};
    std::vector<std::unique_ptr<Client>> sessions;

    // The account services the router hands to IQ handlers (its presence component), caught by a
    // handler of our own.
    server::AccountServices& services()
    {
        if (!services_) {
            server::IqDispatcher probe;
            probe.add("get", "urn:test:services", "q", server::Target::Both,
                      server::inline_handler([this](const server::IqRequest& r, xml::Writer&) -> server::IqResult {
                          services_ = r.from.account;
                          return {};
                      }));
            xml::NamespaceScope scope;
            scope.bind({}, "jabber:client");
            auto iq = xml::Stanza::parse("<iq type='get' id='s'><q xmlns='urn:test:services'/></iq>", scope);
            REQUIRE(iq);
            const xmpp::Jid jid = *xmpp::Jid::parse("probe@montague.lit/x");
            server::Envelopes reply;
            server::IqReply pending;
            const server::Requester sender{jid, "", 0};
            router.route(std::move(*iq), server::RouteContext{sender, config, probe, {}, reply, pending});
            if (pending.valid()) await_now(std::move(pending));
            REQUIRE(services_);
        }
        return *services_;
    }

private:
    server::AccountServices* services_ = nullptr;
};

// romeo/orchard (the sender, available), romeo/garden (available, priority -1), juliet/balcony
// (available, priority 1), juliet/chamber (connected, no presence); nurse exists but is offline.
// `setup` runs on the world first (e.g. to register modules).
struct Routing {
    World world;
    Client& orchard = world.connect("romeo@montague.lit/orchard");
    Client& garden = world.connect("romeo@montague.lit/garden");
    Client& balcony = world.connect("juliet@montague.lit/balcony");
    Client& chamber = world.connect("juliet@montague.lit/chamber");

    explicit Routing(const std::function<void(World&)>& setup = {})
    {
        if (setup) setup(world);
        world.send(orchard, "<presence/>");
        world.send(garden, "<presence><priority>-1</priority></presence>");
        world.send(balcony, "<presence><priority>1</priority></presence>");
        for (auto* s : all()) s->take();
    }
    std::vector<Client*> all() { return {&orchard, &garden, &balcony, &chamber}; }
};

// The condition of an error stanza, empty for any other.
inline std::string error_condition(const xml::Stanza& s)
{
    if (s.type() != "error") return {};
    return std::string(s.root().child("error", "jabber:client").first_child_element().name());
}

// The first stanza in `list` that satisfies `match`, or a failed check.
template <class Match>
const xml::Stanza* find(const std::vector<xml::Stanza>& list, Match match)
{
    for (const auto& s : list)
        if (match(s)) return &s;
    return nullptr;
}

}  // namespace tern::test
