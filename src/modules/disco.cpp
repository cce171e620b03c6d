// XEP-0030 Service Discovery for the server and for accounts. The features come from the dispatcher
// table, so disco lists a feature exactly when a handler answers it (and the requester may use it).
#include "modules/registrations.hpp"
#include "xmpp/ns.hpp"

namespace tern::modules {

namespace {

using server::IqRequest;
using server::IqResult;
using server::Target;

}  // namespace

void register_disco(server::IqDispatcher& dispatcher)
{
    const server::IqDispatcher* table = &dispatcher;
    dispatcher.add("get", xmpp::ns::disco_info, "query", Target::Both,
                   server::inline_handler([table](const IqRequest& request, xml::Writer& reply) -> IqResult {
                       if (!request.payload.attr("node").empty())
                           return make_unexpected(xmpp::StanzaError::of(xmpp::StanzaErrorCondition::ItemNotFound));
                       reply.open("query").attr("xmlns", xmpp::ns::disco_info);
                       if (request.target == Target::Server)
                           reply.open("identity").attr("category", "server").attr("type", "im").attr("name", "tern").close();
                       else
                           reply.open("identity").attr("category", "account").attr("type", "registered").close();
                       for (const auto& feature : table->features(request.target, request.from))
                           reply.open("feature").attr("var", feature).close();
                       reply.close();
                       return {};
                   }));
    dispatcher.add("get", xmpp::ns::disco_items, "query", Target::Both,
                   server::inline_handler([](const IqRequest& request, xml::Writer& reply) -> IqResult {
                       if (!request.payload.attr("node").empty())
                           return make_unexpected(xmpp::StanzaError::of(xmpp::StanzaErrorCondition::ItemNotFound));
                       reply.open("query").attr("xmlns", xmpp::ns::disco_items).close();
                       return {};
                   }));
}

}  // namespace tern::modules
