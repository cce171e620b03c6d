#pragma once

// The client side of SCRAM (RFC 5802/7677, channel binding per RFC 5929/9266), for driving ternd in tests.
#include <optional>
#include <string>
#include <string_view>

#include "crypto/crypto.hpp"

namespace tern::test {

class ScramClient {
public:
    // gs2_flag: "n" (no binding), "y" (client could bind but thinks the server can't), or "p=<type>".
    ScramClient(crypto::Hash hash, std::string username, std::string password, std::string gs2_flag = "n",
                std::string binding_data = {}, std::string authzid = {});

    std::string client_first();
    // The client-final message, or nullopt if server-first is malformed or the nonce does not continue ours.
    std::optional<std::string> client_final(std::string_view server_first);
    bool verify_server_final(std::string_view server_final) const;

private:
    crypto::Hash hash_;
    std::string username_;
    std::string password_;
    std::string gs2_header_;
    std::string binding_data_;
    std::string client_nonce_;
    std::string client_first_bare_;
    std::string expected_server_signature_;
};

}  // namespace tern::test
