#pragma once

// One registration function per module file (modules.cpp calls them in order).
#include "config/config.hpp"
#include "server/iq_dispatcher.hpp"

namespace tern::modules {

void register_ping(server::IqDispatcher& dispatcher);
void register_version(server::IqDispatcher& dispatcher, const config::Config& config);
void register_disco(server::IqDispatcher& dispatcher);

}  // namespace tern::modules
