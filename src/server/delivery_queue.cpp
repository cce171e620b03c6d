#include "server/delivery_queue.hpp"

namespace tern::server {

std::vector<Bounce> refusals(std::string_view stanzas, xmpp::StanzaErrorCondition condition)
{
    std::vector<Bounce> out;
    while (auto piece = take_outbound_stanza(stanzas)) {
        if (piece->type == "error") continue;
        if (piece->name == "iq" && piece->type == "result") continue;
        if (piece->name != "message" && piece->name != "presence" && piece->name != "iq") continue;
        if (auto bounce = error_bounce(*piece, condition, false)) out.push_back(std::move(*bounce));
    }
    return out;
}

}  // namespace tern::server
