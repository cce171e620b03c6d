#include "sasl/plain.hpp"

#include "sasl/credentials.hpp"
#include "xmpp/stringprep.hpp"

namespace tern::sasl {

using xmpp::SaslFailure;

Plain::Plain(ServerContext ctx) : ctx_(std::move(ctx)) {}

Step Plain::start(std::optional<std::string_view> initial_response)
{
    if (done_)
        return Step::fail(SaslFailure::MalformedRequest, "unexpected start");
    // Without an initial response the server sends an empty challenge; the credentials come next.
    if (!initial_response)
        return Step::challenge({});
    return verify(*initial_response);
}

Step Plain::step(std::string_view response)
{
    if (done_)
        return Step::fail(SaslFailure::MalformedRequest, "exchange already finished");
    return verify(response);
}

Step Plain::verify(std::string_view message)
{
    done_ = true;
    const auto first_nul = message.find('\0');
    const auto second_nul = first_nul == std::string_view::npos ? first_nul : message.find('\0', first_nul + 1);
    if (second_nul == std::string_view::npos || message.find('\0', second_nul + 1) != std::string_view::npos)
        return Step::fail(SaslFailure::MalformedRequest, "expected [authzid] NUL authcid NUL passwd");
    const std::string_view authzid = message.substr(0, first_nul);
    const std::string_view authcid = message.substr(first_nul + 1, second_nul - first_nul - 1);
    const std::string_view password = message.substr(second_nul + 1);
    if (authcid.empty() || password.empty())
        return Step::fail(SaslFailure::MalformedRequest, "empty authcid or password");

    // RFC 4616 §4: if preparation fails or yields an empty string, verification fails.
    auto user = xmpp::saslprep(authcid);
    auto pass = xmpp::saslprep(password);
    if (!user || user->empty() || !pass || pass->empty())
        return Step::fail(SaslFailure::NotAuthorized, "SASLprep failed");
    authcid_ = *user;  // the claimed identity, for per-account limits; authenticated only on success

    auto hash = crypto::Hash::Sha256;
    Credentials creds = find_credentials(ctx_, *user, hash);
    if (!creds.known) {
        if (Credentials sha1 = find_credentials(ctx_, *user, crypto::Hash::Sha1); sha1.known) {
            creds = std::move(sha1);
            hash = crypto::Hash::Sha1;
        }
    }
    // An unknown user still pays for the derivation, so the time taken tells nothing.
    const crypto::ScramKeys derived = crypto::derive_scram_keys(hash, *pass, creds.keys.salt, creds.keys.iterations);
    if (!crypto::constant_time_equal(derived.stored_key, creds.keys.stored_key) || !creds.known)
        return Step::fail(SaslFailure::NotAuthorized, "invalid credentials");

    authzid_ = std::string(authzid);
    return Step::success();
}

}  // namespace tern::sasl
