#pragma once

// SCRAM-SHA-1 / SCRAM-SHA-256 and their -PLUS variants (RFC 5802, RFC 7677), server side.
// Channel binding per RFC 5929 / RFC 9266: the c= attribute must be base64(gs2-header + cb-data).
// SCRAM logins never run PBKDF2 (the stored keys suffice), so they are not blocking.
// Downgrade protection per XEP-0474 (0.4, as ejabberd implements it): server-first carries d=.
#include <string>
#include <vector>

#include "sasl/mechanism.hpp"

namespace tern::sasl {

// XEP-0474's d= value: base64(H(the mechanism names sorted and joined by 0x1E, then, if there are any
// channel-binding types, 0x1F and the types sorted and joined by 0x1E)), H being the SCRAM hash.
std::string downgrade_protection_hash(crypto::Hash hash, std::vector<std::string> mechanisms,
                                      std::vector<std::string> binding_types);

class Scram final : public Mechanism {
public:
    Scram(crypto::Hash hash, bool plus, ServerContext ctx);

    Step start(std::optional<std::string_view> initial_response) override;
    Step step(std::string_view response) override;

private:
    enum class State { AwaitingClientFirst, AwaitingClientFinal, Done };

    Step client_first(std::string_view message);
    Step client_final(std::string_view message);
    Step fail(xmpp::SaslFailure failure, std::string_view text);
    std::string make_server_nonce() const;

    crypto::Hash hash_;
    bool plus_;
    ServerContext ctx_;
    State state_ = State::AwaitingClientFirst;
    std::string cbind_input_;  // gs2-header + cb-data, expected (decoded) in c=
    std::string nonce_;        // client nonce + server nonce
    std::string auth_message_;  // client-first-bare "," server-first "," (client-final-without-proof later)
    crypto::ScramKeys keys_;
};

}  // namespace tern::sasl
