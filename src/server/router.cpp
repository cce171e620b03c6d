#include "server/router.hpp"

#include "xmpp/errors.hpp"
#include "xmpp/ns.hpp"

namespace tern::server {

namespace {

using xmpp::StanzaErrorCondition;

void error_reply(const xml::Stanza& stanza, StanzaErrorCondition condition, Envelopes& reply)
{
    if (auto error = server::error_reply(stanza, xmpp::StanzaError::of(condition))) reply.push_back(std::move(*error));
}

StanzaContext hook_context(const RouteContext& context, const SessionRegistry& registry)
{
    return {context.sender, registry, context.now, context.reply};
}

}  // namespace

void Unreachable::deliver(const Envelope& stanza, const RouteContext& context)
{
    if (auto error = error_reply(stanza, xmpp::StanzaError::of(condition_))) context.reply.push_back(std::move(*error));
}

void Router::add_component(std::string domain, std::shared_ptr<Destination> component)
{
    components_[std::move(domain)] = std::move(component);
}

void Router::route(xml::Stanza&& stanza, const RouteContext& context)
{
    if (context.hooks && context.hooks->pre_route(stanza, hook_context(context, registry_)) == HookResult::Taken)
        return;
    const xmpp::Jid& sender = context.sender.jid;
    const std::string_view to_attr = stanza.attr("to");
    if (to_attr.empty()) {
        // RFC 6120 §10.3: no 'to' means the sender's own account (its bare JID).
        return to_account(std::move(stanza), sender.bare(), context);
    }
    const auto to = xmpp::Jid::parse(to_attr);
    if (!to) return error_reply(stanza, StanzaErrorCondition::JidMalformed, context.reply);
    if (!context.config.serves(to->domain())) {
        const auto component = components_.find(to->domain());
        Destination& destination = component != components_.end() ? *component->second : *remote_;
        return destination.deliver(Envelope::of(stanza), context);
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
        client->deliver(Envelope::of(stanza));
        return;
    }
    // RFC 6121 §8.5.3.2.1: no such resource.
    undeliverable(stanza, context);
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
    std::optional<Envelope> envelope;
    for (std::size_t i = 0; i < resources.size(); ++i) {
        if (!resources[i].available || resources[i].priority < 0) continue;
        if (!envelope) envelope = Envelope::of(stanza);
        resources[i].client->deliver(*envelope);
        delivered[i] = true;
    }
    // §8.5.2.2: nobody to deliver to.
    if (!envelope) return undeliverable(stanza, context);
    this->delivered({stanza, *envelope, bare.bare_str(), resources, delivered}, context);
}

void Router::message_to_resource(xml::Stanza&& stanza, const xmpp::Jid& full, const RouteContext& context)
{
    const std::string bare = full.bare_str();
    const auto resources = registry_.resources(bare);
    std::vector<bool> delivered(resources.size());
    for (std::size_t i = 0; i < resources.size(); ++i) {
        if (resources[i].resource != full.resource()) continue;
        const Envelope envelope = Envelope::of(stanza);
        resources[i].client->deliver(envelope);
        delivered[i] = true;
        return this->delivered({stanza, envelope, bare, resources, delivered}, context);
    }
    // §8.5.3.2.1: no such resource. Chat and normal messages go to the bare JID, headlines and errors
    // nowhere, groupchat gets service-unavailable.
    const std::string_view type = stanza.type();
    if (type == "headline" || type == "error") return;
    if (type == "groupchat") return error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, context.reply);
    message_to_account(std::move(stanza), full.bare(), context);
}

void Router::delivered(const Delivery& delivery, const RouteContext& context) const
{
    if (!context.hooks) return;
    const StanzaContext hooks = hook_context(context, registry_);
    context.hooks->archive(delivery.envelope, hooks);
    context.hooks->on_deliver(delivery, hooks);
}

void Router::undeliverable(const xml::Stanza& stanza, const RouteContext& context)
{
    const std::string_view name = stanza.name();
    const std::string_view type = stanza.type();
    const bool request = name == "iq" && (type == "get" || type == "set");
    // A message to an account (§8.5.2.2) or an IQ request to a resource that is not there (§8.5.3.2.1).
    if (context.hooks) {
        const Envelope envelope = Envelope::of(stanza);
        const StanzaContext hooks = hook_context(context, registry_);
        if (context.hooks->undeliverable(envelope, hooks) == HookResult::Taken) {
            if (name == "message") context.hooks->archive(envelope, hooks);
            return;
        }
    }
    // The default: no offline storage, so chat and normal messages and IQ requests are answered with
    // service-unavailable; a headline and IQ results are dropped.
    if (name == "message" ? type != "headline" : request)
        error_reply(stanza, StanzaErrorCondition::ServiceUnavailable, context.reply);
}

}  // namespace tern::server
