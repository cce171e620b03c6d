// Whole c2s sessions in memory: the input is one client's byte stream, fed into server::Session the way
// net::Connection feeds it, with the real session registry, router, presence component, IQ modules and
// SQLite account and roster stores behind it (in a temporary directory). Nothing is faked but the sockets:
// when the session asks for a TLS handshake it is taken as done (the bytes after <proceed/> are the
// plaintext inside TLS), and blocking SASL steps run inline. So a scripted PLAIN login as
// juliet@localhost (password "balcony") binds, and its IQs, presence and messages (to itself and to
// romeo@localhost) go through the router.
//
// Byte 0 is the chunk separator: the rest is cut at each occurrence into separate receive() calls, and an
// empty chunk makes the server ping the client (XEP-0199). Byte 1: bit 0 starts on direct TLS (XEP-0368),
// bit 1 turns require_tls off, bit 2 uses tight XML limits.
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "modules/modules.hpp"
#include "server/address_limits.hpp"
#include "../await_now.hpp"
#include "server/router.hpp"
#include "server/session.hpp"
#include "server/session_registry.hpp"
#include "store/accounts.hpp"
#include "store/roster.hpp"

using namespace tern;

namespace {

constexpr std::string_view domain = "localhost";
constexpr std::string_view account_names[] = {"juliet", "romeo"};
constexpr std::string_view address = "192.0.2.7";

void require(bool ok)
{
    if (!ok) std::abort();
}

// What stays up between inputs: the data directory with its two accounts, and the module table.
struct World {
    std::filesystem::path dir;
    std::optional<store::AccountStore> accounts;
    std::optional<store::RosterStore> rosters;
    server::IqDispatcher dispatcher;
    server::Hooks hooks;
    std::chrono::system_clock::time_point now = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};

    World()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "tern_session_fuzz_XXXXXX").string();
        require(mkdtemp(pattern.data()) != nullptr);
        dir = pattern;
        auto account_store = store::AccountStore::open((dir / store::accounts_file_name).string());
        require(account_store.has_value());
        accounts.emplace(std::move(*account_store));
        for (const auto local : account_names)
            require(accounts->add(domain, local, "balcony", 1, std::chrono::sys_seconds{}).has_value());
        auto roster_store = store::RosterStore::open((dir / store::roster_file_name).string());
        require(roster_store.has_value());
        rosters.emplace(std::move(*roster_store));
        config::Config config = config::default_config();
        config.server.domains = {std::string(domain)};
        modules::register_all(dispatcher, hooks, config, nullptr);
    }
    ~World() { std::filesystem::remove_all(dir); }

    // Inputs must not see each other's rosters.
    void reset_rosters()
    {
        for (const auto local : account_names)
            require(rosters->remove_owner(std::string(local) + "@" + std::string(domain)).has_value());
    }
};

World& world()
{
    static World w;
    return w;
}

std::shared_ptr<const server::SessionConfig> session_config(std::uint8_t flags)
{
    auto config = std::make_shared<server::SessionConfig>();
    config->domains = {std::string(domain)};
    config->require_tls = (flags & 0x2) == 0;
    config->sasl_mechanisms = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"};
    if (flags & 0x4) {
        config->xml_limits.max_stanza_bytes = 1024;
        config->xml_limits.max_depth = 4;
        config->xml_limits.max_attributes = 4;
        config->max_unacked_bytes = 2048;
    }
    return config;
}

server::TlsInfo tls_info()
{
    return {{{"tls-exporter", std::string(32, '\x42')}}, std::string(domain)};
}

// The registry's view of the session: deliveries from the router are queued, as Connection posts them to
// the session's worker, and handed over after the current receive() returns.
struct Handle final : server::ClientHandle {
    server::Envelopes queued;
    std::optional<xmpp::StreamErrorCondition> kicked;
    void deliver(server::Envelope stanza) override { queued.push_back(std::move(stanza)); }
    void kick(xmpp::StreamErrorCondition condition, std::string) override { kicked = condition; }
};

class Client final : public server::SessionHost {
public:
    Client(World& world, server::SessionRegistry& registry, server::Router& router, std::uint8_t flags)
        : world_(world),
          registry_(registry),
          router_(router),
          config_(session_config(flags)),
          limits_(),
          session_(config_, *this, (flags & 0x1) ? std::optional(tls_info()) : std::nullopt)
    {
    }

    // One TCP read's worth of bytes, then whatever the connection would do next.
    void receive(std::string_view bytes)
    {
        if (closed()) return;
        session_.receive(bytes);
        pump();
    }

    void ping()
    {
        if (session_.state() != server::Session::State::Bound) return;
        session_.ping();
        pump();
    }

    // The peer disconnects; a bound session leaves the registry and goes unavailable.
    void end()
    {
        if (!closed()) session_.peer_closed();
        pump();
        if (bound_) {
            registry_.unbind(session_.jid(), handle_.get());
            router_.session_ended(requester());
        }
        (void)session_.take_unacked();
    }

    std::optional<crypto::ScramKeys> scram_keys(std::string_view d, std::string_view local, crypto::Hash hash) override
    {
        auto keys = world_.accounts->scram_keys(d, local, hash);
        require(keys.has_value());
        return *keys;
    }
    std::chrono::milliseconds auth_checked(const std::string& account, bool failed) override
    {
        return limits_.auth_checked(limits_.key(address), account, now(), failed);
    }
    server::BindOutcome bind(const xmpp::Jid& full_jid) override
    {
        auto result = registry_.bind(full_jid, handle_);
        if (result.outcome == server::BindOutcome::Bound) bound_ = true;
        return result.outcome;
    }
    bool route(xml::Stanza&& stanza) override
    {
        server::Envelopes reply;
        server::IqReply pending;
        router_.route(std::move(stanza), {requester(), *config_, world_.dispatcher, world_.now, reply, pending, &world_.hooks});
        // The handlers answer without suspending: run the IQ to its end before the next stanza.
        if (pending.valid()) {
            if (auto answer = test::await_now(std::move(pending))) reply.push_back(std::move(*answer));
        }
        session_.deliver(reply);
        return true;
    }
    void enable_resumption(std::string_view id) override { require(!id.empty()); }

private:
    static server::AddressLimits::Clock::time_point now() { return server::AddressLimits::Clock::time_point{}; }
    bool closed() const { return session_.state() == server::Session::State::Closed; }
    server::Requester requester() { return {session_.jid(), address, 5222, &module_state_, handle_.get()}; }

    // Carries out the session's pending action and hands over queued deliveries until nothing is left.
    void pump()
    {
        for (int round = 0; round < 64; ++round) {
            output_ += session_.take_output();
            if (output_.size() > (1 << 20)) output_.clear();
            switch (session_.action()) {
            case server::Session::Action::StartTls:
                session_.tls_established(tls_info());
                continue;
            case server::Session::Action::RunBlocking:
                session_.blocking_done(session_.take_blocking_job()());
                continue;
            case server::Session::Action::Route:  // route() never leaves one pending here
                session_.routed();
                continue;
            case server::Session::Action::Resume:
                session_.resume_failed({});
                continue;
            case server::Session::Action::Wait:
                session_.wait_done();
                continue;
            case server::Session::Action::Close:
            case server::Session::Action::None:
                break;
            }
            if (handle_->kicked) {
                session_.fail(*std::exchange(handle_->kicked, std::nullopt));
                continue;
            }
            if (handle_->queued.empty()) return;
            auto queued = std::exchange(handle_->queued, {});
            for (const auto& stanza : queued)
                if (!closed()) session_.deliver(stanza);
        }
    }

    World& world_;
    server::SessionRegistry& registry_;
    server::Router& router_;
    std::shared_ptr<const server::SessionConfig> config_;
    server::AddressLimits limits_;
    std::shared_ptr<Handle> handle_ = std::make_shared<Handle>();
    server::SessionState module_state_;
    server::Session session_;
    std::string output_;
    bool bound_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2) return 0;
    const char separator = static_cast<char>(data[0]);
    const std::uint8_t flags = data[1];
    const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

    World& w = world();
    w.reset_rosters();
    server::SessionRegistry registry(10);
    server::Router router(registry, w.dir);
    {
        Client client(w, registry, router, flags);
        for (std::size_t pos = 0; pos <= stream.size();) {
            const std::size_t end = std::min(stream.find(separator, pos), stream.size());
            const std::string_view chunk = stream.substr(pos, end - pos);
            if (chunk.empty())
                client.ping();
            else
                client.receive(chunk);
            pos = end + 1;
        }
        client.end();
    }
    require(registry.size() == 0);
    return 0;
}
