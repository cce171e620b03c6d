#pragma once

// One registration function per module file (modules.cpp calls them in order).
#include <chrono>
#include <functional>

#include "config/config.hpp"
#include "server/iq_dispatcher.hpp"

namespace tern::modules {

void register_ping(server::IqDispatcher& dispatcher);
void register_version(server::IqDispatcher& dispatcher, const config::Config& config);
void register_disco(server::IqDispatcher& dispatcher);
void register_sic(server::IqDispatcher& dispatcher);
void register_roster(server::IqDispatcher& dispatcher);
void register_carbons(server::IqDispatcher& dispatcher);

// XEP-0215. `previous` (null at start-up) is diffed against `config` for the pushes after a reload, which
// take the time from `clock`.
using ExtdiscoClock = std::function<std::chrono::system_clock::time_point()>;
void register_extdisco(server::IqDispatcher& dispatcher, const config::Config& config, const config::Config* previous,
                       ExtdiscoClock clock = [] { return std::chrono::system_clock::now(); });

}  // namespace tern::modules
