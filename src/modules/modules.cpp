#include "modules/modules.hpp"

#include "modules/registrations.hpp"

namespace tern::modules {

void register_all(server::IqDispatcher& dispatcher, server::Hooks& hooks, const config::Config& config,
                  const config::Config* previous)
{
    register_ping(dispatcher);
    register_version(dispatcher, config);
    register_extdisco(dispatcher, hooks, config, previous);
    register_sic(dispatcher);
    register_roster(dispatcher);
    register_carbons(dispatcher, hooks);
    register_disco(dispatcher);  // last: it lists what the others registered
}

}  // namespace tern::modules
