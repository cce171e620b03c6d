#pragma once

// XEP-0280 Message Carbons: which messages are copied to an account's other resources, and the copy.
#include <string>
#include <string_view>

#include "xml/stanza.hpp"

namespace tern::server {

// A chat message, or a normal one with a body (§6), that carries neither <private/> nor an XEP-0334
// <no-copy/> hint and is not itself a carbon.
bool carbon_eligible(const xml::Stanza& message);

enum class CarbonDirection { Sent, Received };

// `<message from='account' to='to' type='..'><sent|received xmlns='urn:xmpp:carbons:2'><forwarded
// xmlns='urn:xmpp:forward:0'>original</forwarded></..></message>`; `original` is the serialized message.
void append_carbon(std::string& out, CarbonDirection direction, std::string_view account, std::string_view to,
                   std::string_view type, std::string_view original);

}  // namespace tern::server
