#include "server/carbons.hpp"

#include "xml/writer.hpp"
#include "xmpp/ns.hpp"

namespace tern::server {

bool carbon_eligible(const xml::Stanza& message)
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

void append_carbon(std::string& out, CarbonDirection direction, std::string_view account, std::string_view to,
                   std::string_view type, std::string_view original)
{
    xml::Writer w(out);
    w.open("message").attr("from", account).attr("to", to);
    if (!type.empty()) w.attr("type", type);
    w.open(direction == CarbonDirection::Sent ? "sent" : "received").attr("xmlns", xmpp::ns::carbons);
    w.open("forwarded").attr("xmlns", xmpp::ns::forward).raw(original);
    w.close_all();
}

}  // namespace tern::server
