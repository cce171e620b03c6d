#pragma once

// The part of the configuration a c2s session reads, as one immutable snapshot: a config reload builds a
// new one for new streams while existing streams keep theirs.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "xml/tokenizer.hpp"

namespace tern::server {

struct SessionConfig {
    std::vector<std::string> domains;          // prepared
    bool require_tls = true;
    xml::Limits xml_limits;
    std::vector<std::string> sasl_mechanisms;  // in order of preference
    unsigned max_auth_attempts = 3;            // RFC 6120 §6.4.5: at least 2 retries

    bool serves(std::string_view domain) const
    {
        return std::find(domains.begin(), domains.end(), domain) != domains.end();
    }
};

}  // namespace tern::server
