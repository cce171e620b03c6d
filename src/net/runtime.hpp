#pragma once

// What all connections of one ternd process share. The snapshots (config, TLS context) are replaced
// whole on reload (SIGHUP); a connection takes its copies when it starts and keeps them.
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "config/config.hpp"
#include "server/address_limits.hpp"
#include "server/blocking.hpp"
#include "server/hooks.hpp"
#include "server/iq_dispatcher.hpp"
#include "server/resumption_table.hpp"
#include "server/router.hpp"
#include "server/session_config.hpp"
#include "server/session_registry.hpp"
#include "tls/context.hpp"

namespace tern::net {

class SessionHandle;

struct Snapshot {
    std::shared_ptr<const config::Config> config;
    std::shared_ptr<const server::SessionConfig> session;
    std::shared_ptr<const tls::Context> tls;
    std::shared_ptr<const server::IqDispatcher> iq;  // the module handlers, built for this configuration
    std::shared_ptr<const server::Hooks> hooks;      // the modules' stanza and session hooks, likewise
};

class Runtime {
public:
    Runtime(Snapshot initial, std::filesystem::path accounts_path, server::Blocking& blocking)
        : snapshot_(std::move(initial)),
          accounts_path_(std::move(accounts_path)),
          registry_(snapshot_.config->limits.max_resources_per_account),
          limits_(server::address_limit_settings(snapshot_.config->limits)),
          router_(registry_, accounts_path_.parent_path(), &blocking)
    {
    }

    Snapshot snapshot() const
    {
        std::lock_guard lock(mutex_);
        return snapshot_;
    }

    void replace(Snapshot next)
    {
        const auto& limits = next.config->limits;
        registry_.set_max_resources(limits.max_resources_per_account);
        limits_.set_settings(server::address_limit_settings(limits));
        std::lock_guard lock(mutex_);
        snapshot_ = std::move(next);
    }

    const std::filesystem::path& accounts_path() const { return accounts_path_; }
    server::SessionRegistry& registry() { return registry_; }
    server::AddressLimits& limits() { return limits_; }
    server::Router& router() { return router_; }
    server::ResumptionTable<SessionHandle>& resumptions() { return resumptions_; }
    std::atomic<std::size_t>& connections() { return connections_; }

private:
    mutable std::mutex mutex_;
    Snapshot snapshot_;
    std::filesystem::path accounts_path_;
    server::SessionRegistry registry_;
    server::AddressLimits limits_;
    server::Router router_;
    server::ResumptionTable<SessionHandle> resumptions_;
    std::atomic<std::size_t> connections_{0};
};

}  // namespace tern::net
