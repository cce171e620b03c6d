// XEP-0280 Message Carbons: a session turns the copies of its account's messages on and off (the flag
// lives in the session registry, where every router reads it), and on the on-deliver hook each message
// delivered to an account is copied to that account's other resources that want copies ('received')
// and to the sender's other resources ('sent').
#include "modules/registrations.hpp"
#include "xml/writer.hpp"
#include "xmpp/ns.hpp"

namespace tern::modules {

namespace {

using server::Envelope;
using server::StanzaKind;

// A chat message, or a normal one with a body (§6), that carries neither <private/> nor an XEP-0334
// <no-copy/> hint and is not itself a carbon.
bool eligible(const xml::Stanza& message)
{
    if (message.name() != "message") return false;
    const std::string_view type = message.type();
    const xml::Element root = message.root();
    const bool chat = type == "chat";
    const bool normal_with_body = (type.empty() || type == "normal") && root.child("body", xmpp::ns::client);
    if (!chat && !normal_with_body) return false;
    for (const auto child : root.children()) {
        if (child.ns() == xmpp::ns::carbons &&
            (child.name() == "private" || child.name() == "sent" || child.name() == "received"))
            return false;
        if (child.ns() == xmpp::ns::hints && child.name() == "no-copy") return false;
    }
    return true;
}

// `<message from='account' to='to' type='..'><sent|received xmlns='urn:xmpp:carbons:2'><forwarded
// xmlns='urn:xmpp:forward:0'>original</forwarded></..></message>`.
Envelope carbon(std::string_view direction, const std::string& account, std::string to, std::string_view type,
                std::string_view original)
{
    std::string out;
    xml::Writer w(out);
    w.open("message").attr("from", account).attr("to", to);
    if (!type.empty()) w.attr("type", type);
    w.open(direction).attr("xmlns", xmpp::ns::carbons);
    w.open("forwarded").attr("xmlns", xmpp::ns::forward).raw(original);
    w.close_all();
    return Envelope::make({StanzaKind::Message, to, account, type, {}}, std::move(out));
}

void copy(const server::Delivery& delivery, const server::StanzaContext& context)
{
    if (!eligible(delivery.stanza)) return;
    const std::string sender = context.sender.jid.bare_str();
    // Within one account, every resource that wants it already gets the message itself.
    if (sender == delivery.account) return;
    const std::string_view type = delivery.envelope.type();
    const std::string_view original = delivery.envelope.bytes();
    for (std::size_t i = 0; i < delivery.resources.size(); ++i) {
        const auto& r = delivery.resources[i];
        if (!r.carbons || delivery.delivered[i]) continue;
        r.client->deliver(carbon("received", delivery.account, delivery.account + '/' + r.resource, type, original));
    }
    for (const auto& r : context.sessions.resources(sender)) {
        if (!r.carbons || r.client.get() == context.sender.client) continue;
        r.client->deliver(carbon("sent", sender, sender + '/' + r.resource, type, original));
    }
}

}  // namespace

void register_carbons(server::IqDispatcher& dispatcher, server::Hooks& hooks)
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
    hooks.add(server::StanzaHooks{.on_deliver = copy});
}

}  // namespace tern::modules
