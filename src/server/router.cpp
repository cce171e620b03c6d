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

void Router::route(xml::Stanza&& stanza, const xmpp::Jid& sender, const SessionConfig& config, std::string& reply)
{
    const std::string_view to_attr = stanza.attr("to");
    if (to_attr.empty()) {
        // RFC 6120 §10.3: no 'to' means the sender's own account (its bare JID).
        return to_account(std::move(stanza), sender.bare(), reply);
    }
    const auto to = xmpp::Jid::parse(to_attr);
    if (!to) return error_reply(stanza, StanzaErrorCondition::JidMalformed, reply);
    if (!config.serves(to->domain())) {
        // No federation yet: every other domain is unreachable.
        return error_reply(stanza, StanzaErrorCondition::RemoteServerNotFound, reply);
    }
    if (to->local().empty()) {
        if (!to->resource().empty()) return error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, reply);
        return to_server(std::move(stanza), reply);
    }
    if (to->is_bare()) return to_account(std::move(stanza), *to, reply);
    to_resource(std::move(stanza), *to, reply);
}

void Router::to_server(xml::Stanza&& stanza, std::string& reply)
{
    if (!is_request(stanza)) return;  // messages and presence to the server itself are dropped
    const xml::Element child = stanza.root().first_child_element();
    if (stanza.attr("type") == "get" && child && child.name() == "ping" && child.ns() == xmpp::ns::ping) {
        // XEP-0199: the server answers pings addressed to it.
        xml::Writer w(reply);
        w.open("iq").attr("type", "result").attr("id", stanza.attr("id"));
        if (const auto from = stanza.attr("from"); !from.empty()) w.attr("to", from);
        if (const auto to = stanza.attr("to"); !to.empty()) w.attr("from", to);
        w.close();
        return;
    }
    error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, reply);
}

void Router::to_account(xml::Stanza&& stanza, const xmpp::Jid& bare, std::string& reply)
{
    const std::string_view name = stanza.name();
    if (name == "iq") {
        // IQs to a bare JID are handled by the server on the account's behalf (RFC 6120 §10.5.3.1).
        return to_server(std::move(stanza), reply);
    }
    const auto resources = registry_.resources(bare);
    if (resources.empty()) {
        // No offline storage: RFC 6121 §8.5.2.2 lets the server answer service-unavailable.
        if (name == "message") error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, reply);
        return;
    }
    if (name == "message" && stanza.attr("type") == "error") return;
    const std::string serialized = stanza.serialize();
    for (const auto& resource : resources) resource.client->deliver(serialized);
}

void Router::to_resource(xml::Stanza&& stanza, const xmpp::Jid& full, std::string& reply)
{
    if (auto client = registry_.find(full)) {
        client->deliver(stanza.serialize());
        return;
    }
    // RFC 6121 §8.5.3.2: no such resource.
    const std::string_view name = stanza.name();
    if (name == "message") return to_account(std::move(stanza), full.bare(), reply);
    if (name == "iq") error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, reply);
}

}  // namespace tern::server
