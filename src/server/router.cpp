#include "server/router.hpp"

#include "xml/writer.hpp"
#include "xmpp/errors.hpp"
#include "xmpp/ns.hpp"

namespace tern::server {

namespace {

using xmpp::StanzaErrorCondition;

bool is_request(const xml::Stanza& stanza)
{
    const std::string_view type = stanza.attr("type");
    return stanza.name() == "iq" && (type == "get" || type == "set");
}

void error_reply(const xml::Stanza& stanza, StanzaErrorCondition condition, std::string& reply)
{
    // RFC 6120 §8.3.1: never answer an error with an error.
    if (stanza.attr("type") == "error") return;
    if (stanza.name() == "iq" && stanza.attr("type") == "result") return;
    xmpp::append_error_reply(reply, stanza, xmpp::StanzaError::of(condition));
}

}  // namespace

void Router::route(xml::Stanza&& stanza, const RouteContext& context)
{
    const xmpp::Jid& sender = context.sender.jid;
    const std::string_view to_attr = stanza.attr("to");
    if (to_attr.empty()) {
        // RFC 6120 §10.3: no 'to' means the sender's own account (its bare JID).
        return to_account(std::move(stanza), sender.bare(), context);
    }
    const auto to = xmpp::Jid::parse(to_attr);
    if (!to) return error_reply(stanza, StanzaErrorCondition::JidMalformed, context.reply);
    if (!context.config.serves(to->domain())) {
        // No federation yet: every other domain is unreachable.
        return error_reply(stanza, StanzaErrorCondition::RemoteServerNotFound, context.reply);
    }
    if (to->local().empty()) {
        if (!to->resource().empty()) return error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, context.reply);
        return to_server(std::move(stanza), Target::Server, context);
    }
    if (to->is_bare()) return to_account(std::move(stanza), *to, context);
    to_resource(std::move(stanza), *to, context);
}

void Router::to_server(xml::Stanza&& stanza, Target target, const RouteContext& context)
{
    // Messages and presence to the server itself are dropped.
    if (stanza.name() == "iq") context.iq.dispatch(stanza, context.sender, target, context.now, context.reply);
}

void Router::to_account(xml::Stanza&& stanza, const xmpp::Jid& bare, const RouteContext& context)
{
    const std::string_view name = stanza.name();
    if (name == "iq") {
        // IQs to a bare JID are answered by the server on the account's behalf (RFC 6120 §10.5.3.1); only
        // the account itself may ask, others get what an account without that feature gives.
        if (bare == context.sender.jid.bare()) return to_server(std::move(stanza), Target::Account, context);
        if (is_request(stanza)) error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, context.reply);
        return;
    }
    const auto resources = registry_.resources(bare);
    if (resources.empty()) {
        // No offline storage: RFC 6121 §8.5.2.2 lets the server answer service-unavailable.
        if (name == "message") error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, context.reply);
        return;
    }
    if (name == "message" && stanza.attr("type") == "error") return;
    const std::string serialized = stanza.serialize();
    for (const auto& resource : resources) resource.client->deliver(serialized);
}

void Router::to_resource(xml::Stanza&& stanza, const xmpp::Jid& full, const RouteContext& context)
{
    if (auto client = registry_.find(full)) {
        client->deliver(stanza.serialize());
        return;
    }
    // RFC 6121 §8.5.3.2: no such resource.
    const std::string_view name = stanza.name();
    if (name == "message") return to_account(std::move(stanza), full.bare(), context);
    if (is_request(stanza)) error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, context.reply);
}

}  // namespace tern::server
