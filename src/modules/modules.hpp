#pragma once

// Every feature module, registered in one place: the only list to edit when adding one.
#include "config/config.hpp"
#include "server/hooks.hpp"
#include "server/iq_dispatcher.hpp"

namespace tern::modules {

// `previous` is the configuration being replaced on a reload (null at start-up), for modules that push
// changes to connected sessions.
void register_all(server::IqDispatcher& dispatcher, server::Hooks& hooks, const config::Config& config,
                  const config::Config* previous);

}  // namespace tern::modules
