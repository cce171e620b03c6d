// XEP-0092 Software Version, unless the operator hides it ([server] hide_version).
#include "modules/registrations.hpp"
#include "xmpp/ns.hpp"

namespace tern::modules {

void register_version(server::IqDispatcher& dispatcher, const config::Config& config)
{
    if (config.server.hide_version) return;
    dispatcher.add("get", xmpp::ns::version, "query", server::Target::Server,
                   server::inline_handler([](const server::IqRequest&, xml::Writer& reply) -> server::IqResult {
                       reply.open("query").attr("xmlns", xmpp::ns::version);
                       reply.leaf("name", "tern").leaf("version", TERN_VERSION);
                       reply.close();
                       return {};
                   }));
}

}  // namespace tern::modules
