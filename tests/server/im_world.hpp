#pragma once

// A small in-memory server for router and presence tests: a registry, a router over a temporary data
// directory (roster and account databases), and sessions whose deliveries are recorded. Stanzas are sent
// as a bound session would send them ('from' stamped with the full JID).
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

// Every top-level element in `text` (one stanza or several back to back), parsed.
inline std::vector<xml::Stanza> stanzas(std::string_view text)
{
    xml::Tokenizer tokenizer;
    tokenizer.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    tokenizer.feed(text);
    std::vector<xml::Stanza> out;
    for (;;) {
        const xml::Event event = tokenizer.next();
        if (event.kind == xml::EventKind::StreamOpen) continue;
        if (event.kind != xml::EventKind::Stanza) break;
        auto stanza = xml::Stanza::parse(event, tokenizer.header().scope());
        REQUIRE(stanza);
        out.push_back(std::move(*stanza));
    }
    REQUIRE(tokenizer.unconsumed() == 0);
    return out;
}

struct Recorder final : server::ClientHandle {
    std::string delivered;  // everything, back to back
    void deliver(std::string s) override { delivered += s; }
    void kick(xmpp::StreamErrorCondition, std::string) override {}
};

struct Client {
    xmpp::Jid jid;
    std::shared_ptr<Recorder> handle = std::make_shared<Recorder>();
    server::SessionState state;

    server::Requester requester() { return {jid, "192.0.2.1", 1, &state, handle.get()}; }
    // What was delivered to it since the last call, replies included.
    std::vector<xml::Stanza> take() { return stanzas(std::exchange(handle->delivered, {})); }
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
        std::string reply;
        server::IqReply pending;
        const server::Requester sender = session.requester();
        router.route(std::move(*stanza), server::RouteContext{sender, config, dispatcher, {}, reply, pending});
        if (pending.valid()) reply += await_now(std::move(pending));
        session.handle->delivered += reply;
    }

    TempDir dir;
    server::SessionConfig config;
    server::IqDispatcher dispatcher;
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
            std::string reply;
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

// The first stanza in `list` that satisfies `match`, or a failed check.
template <class Match>
const xml::Stanza* find(const std::vector<xml::Stanza>& list, Match match)
{
    for (const auto& s : list)
        if (match(s)) return &s;
    return nullptr;
}

}  // namespace tern::test
