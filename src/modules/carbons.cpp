// XEP-0280 Message Carbons: a session turns the copies of its account's messages on and off. The copies
// themselves are made by the router, which sees every message.
#include "modules/registrations.hpp"
#include "xmpp/ns.hpp"

namespace tern::modules {

void register_carbons(server::IqDispatcher& dispatcher)
{
    for (const auto& [name, enabled] : {std::pair{"enable", true}, std::pair{"disable", false}}) {
        dispatcher.add("set", xmpp::ns::carbons, name, server::Target::Both,
                       server::inline_handler([enabled = enabled](const server::IqRequest& request, xml::Writer&) -> server::IqResult {
                           if (!request.from.account)
                               return make_unexpected(
                                   xmpp::StanzaError::of(xmpp::StanzaErrorCondition::ServiceUnavailable));
                           request.from.account->set_carbons(request.from, enabled);
                           return {};
                       }));
    }
}

}  // namespace tern::modules
