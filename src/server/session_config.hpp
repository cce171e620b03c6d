#pragma once

// The part of the configuration a c2s session reads, as one immutable snapshot: a config reload builds a
// new one for new streams while existing streams keep theirs.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
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
    std::uint32_t scram_iterations = 4096;     // what new passwords get: shown to unknown usernames too
    std::string unknown_user_secret;           // data_dir/sasl_secret: keys the salts shown to unknown usernames
    bool strict_channel_binding_flag = false;  // sasl::ServerContext::strict_channel_binding_flag
    unsigned max_auth_attempts = 3;            // RFC 6120 §6.4.5: at least 2 retries
    std::chrono::seconds sm_resume_timeout{300};  // XEP-0198: how long a detached session waits for its client
    std::size_t max_unacked_bytes = 1 << 20;      // XEP-0198 queue bound; held XEP-0352 presence gets a quarter

    bool serves(std::string_view domain) const
    {
        return std::find(domains.begin(), domains.end(), domain) != domains.end();
    }
};

}  // namespace tern::server
