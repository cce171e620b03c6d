// XEP-0199 XMPP Ping: the server answers pings to itself and to the requester's own account.
#include "modules/registrations.hpp"
#include "xmpp/ns.hpp"

namespace tern::modules {

void register_ping(server::IqDispatcher& dispatcher)
{
    dispatcher.add("get", xmpp::ns::ping, "ping", server::Target::Both,
                   server::inline_handler([](const server::IqRequest&, xml::Writer&) -> server::IqResult { return {}; }));
}

}  // namespace tern::modules
