#pragma once

// One registration function per module file (modules.cpp calls them in order).
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "server/hooks.hpp"
#include "server/iq_dispatcher.hpp"

namespace tern::modules {

void register_ping(server::IqDispatcher& dispatcher);
void register_version(server::IqDispatcher& dispatcher, const config::Config& config);
void register_disco(server::IqDispatcher& dispatcher);
void register_sic(server::IqDispatcher& dispatcher);
void register_roster(server::IqDispatcher& dispatcher);
void register_carbons(server::IqDispatcher& dispatcher, server::Hooks& hooks);

// XEP-0215. What a session asked for, kept in its module state: which pushes it gets, and when.
struct ExtdiscoSession {
    bool requested_all = false;        // asked for <services/> without a type filter
    std::vector<std::string> types;    // service types it asked for
    std::string_view ns;               // namespace of its last <services/> request (a constant), for pushes
    std::chrono::system_clock::time_point refresh_at{};  // push fresh credentials then (0: nothing given)
};
// `previous` (null at start-up) is diffed against `config` for the pushes after a reload, which
// take the time from `clock`.
using ExtdiscoClock = std::function<std::chrono::system_clock::time_point()>;
void register_extdisco(server::IqDispatcher& dispatcher, server::Hooks& hooks, const config::Config& config,
                       const config::Config* previous, ExtdiscoClock clock = [] { return std::chrono::system_clock::now(); });

}  // namespace tern::modules
