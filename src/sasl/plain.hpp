#pragma once

// PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd, checked against the stored SCRAM keys by deriving
// them from the password (PBKDF2), so every attempt is blocking. Offered only inside TLS.
#include "sasl/mechanism.hpp"

namespace tern::sasl {

class Plain final : public Mechanism {
public:
    explicit Plain(ServerContext ctx);

    Step start(std::optional<std::string_view> initial_response) override;
    Step step(std::string_view response) override;
    bool blocking() const override { return true; }

private:
    Step verify(std::string_view message);

    ServerContext ctx_;
    bool done_ = false;
};

}  // namespace tern::sasl
