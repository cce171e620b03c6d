#include "server/router.hpp"

#include "server/carbons.hpp"
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
    if (stanza.name() != "iq") return;
    Requester sender = context.sender;
    sender.account = &presence_;
    // Most handlers answer inline; one that may suspend leaves its IQ pending for the sender to await.
    if (!context.iq.answer_inline(stanza, sender, target, context.now, context.reply))
        context.pending = context.iq.dispatch(std::move(stanza), sender, target, context.now);
}

void Router::to_account(xml::Stanza&& stanza, const xmpp::Jid& bare, const RouteContext& context)
{
    const std::string_view name = stanza.name();
    if (name == "iq") {
        // IQs to a bare JID are answered by the server on the account's behalf (RFC 6120 §10.5.3.1). Asked
        // by another account, only handlers registered for that answer (the rest give service-unavailable).
        const Target target = bare == context.sender.jid.bare() ? Target::Account : Target::OtherAccount;
        return to_server(std::move(stanza), target, context);
    }
    if (name == "presence") {
        // Presence to one's own bare JID is the same as no 'to': a broadcast.
        const bool own = bare == context.sender.jid.bare();
        return presence_.handle(std::move(stanza), own ? std::nullopt : std::optional(bare), context.sender,
                                context.reply);
    }
    message_to_account(std::move(stanza), bare, context);
}

void Router::to_resource(xml::Stanza&& stanza, const xmpp::Jid& full, const RouteContext& context)
{
    const std::string_view name = stanza.name();
    if (name == "presence") return presence_.handle(std::move(stanza), full, context.sender, context.reply);
    if (name == "message") return message_to_resource(std::move(stanza), full, context);
    if (auto client = registry_.find(full)) {
        client->deliver(stanza.serialize());
        return;
    }
    // RFC 6121 §8.5.3.2.1: no such resource.
    if (is_request(stanza)) error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, context.reply);
}

void Router::message_to_account(xml::Stanza&& stanza, const xmpp::Jid& bare, const RouteContext& context)
{
    // RFC 6121 §8.5.2: every available resource with a non-negative priority gets chat, normal and
    // headline messages (call proposals, XEP-0353, rely on all of them ringing).
    const std::string_view type = stanza.type();
    if (type == "error") return;
    if (type == "groupchat") return error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, context.reply);
    const auto resources = registry_.resources(bare);
    std::vector<bool> delivered(resources.size());
    std::string serialized;
    for (std::size_t i = 0; i < resources.size(); ++i) {
        if (!resources[i].available || resources[i].priority < 0) continue;
        if (serialized.empty()) serialized = stanza.serialize();
        resources[i].client->deliver(serialized);
        delivered[i] = true;
    }
    if (serialized.empty()) {
        // §8.5.2.2: nobody to deliver to. There is no offline storage yet, so chat and normal messages are
        // answered with service-unavailable; a headline is dropped.
        if (type != "headline") error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, context.reply);
        return;
    }
    copy_carbons(stanza, serialized, bare.bare_str(), resources, delivered, context);
}

void Router::message_to_resource(xml::Stanza&& stanza, const xmpp::Jid& full, const RouteContext& context)
{
    const std::string bare = full.bare_str();
    const auto resources = registry_.resources(bare);
    std::vector<bool> delivered(resources.size());
    for (std::size_t i = 0; i < resources.size(); ++i) {
        if (resources[i].resource != full.resource()) continue;
        const std::string serialized = stanza.serialize();
        resources[i].client->deliver(serialized);
        delivered[i] = true;
        return copy_carbons(stanza, serialized, bare, resources, delivered, context);
    }
    // §8.5.3.2.1: no such resource. Chat and normal messages go to the bare JID, headlines and errors
    // nowhere, groupchat gets service-unavailable.
    const std::string_view type = stanza.type();
    if (type == "headline" || type == "error") return;
    if (type == "groupchat") return error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, context.reply);
    message_to_account(std::move(stanza), full.bare(), context);
}

void Router::copy_carbons(const xml::Stanza& message, std::string_view serialized, const std::string& recipient,
                          const std::vector<SessionRegistry::Resource>& recipients, const std::vector<bool>& delivered,
                          const RouteContext& context)
{
    if (!carbon_eligible(message)) return;
    const std::string sender = context.sender.jid.bare_str();
    // Within one account, every resource that wants it already gets the message itself.
    if (sender == recipient) return;
    const std::string_view type = message.type();
    for (std::size_t i = 0; i < recipients.size(); ++i) {
        if (!recipients[i].carbons || delivered[i]) continue;
        std::string copy;
        append_carbon(copy, CarbonDirection::Received, recipient, recipient + '/' + recipients[i].resource, type,
                      serialized);
        recipients[i].client->deliver(std::move(copy));
    }
    for (const auto& r : registry_.resources(sender)) {
        if (!r.carbons || r.client.get() == context.sender.client) continue;
        std::string copy;
        append_carbon(copy, CarbonDirection::Sent, sender, sender + '/' + r.resource, type, serialized);
        r.client->deliver(std::move(copy));
    }
}

}  // namespace tern::server
