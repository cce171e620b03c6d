#include "sasl/scram.hpp"

#include "sasl/credentials.hpp"
#include "sasl/scram_message.hpp"
#include "xmpp/stringprep.hpp"

#include <algorithm>

namespace tern::sasl {

using xmpp::SaslFailure;

std::string downgrade_protection_hash(crypto::Hash hash, std::vector<std::string> mechanisms,
                                      std::vector<std::string> binding_types)
{
    std::sort(mechanisms.begin(), mechanisms.end());
    std::sort(binding_types.begin(), binding_types.end());
    std::string input;
    for (std::size_t i = 0; i < mechanisms.size(); ++i) {
        if (i > 0) input += '\x1e';
        input += mechanisms[i];
    }
    for (std::size_t i = 0; i < binding_types.size(); ++i) {
        input += i > 0 ? '\x1e' : '\x1f';
        input += binding_types[i];
    }
    return crypto::base64_encode(crypto::digest(hash, input));
}

Scram::Scram(crypto::Hash hash, bool plus, ServerContext ctx) : hash_(hash), plus_(plus), ctx_(std::move(ctx)) {}

Step Scram::start(std::optional<std::string_view> initial_response)
{
    if (state_ != State::AwaitingClientFirst)
        return fail(SaslFailure::MalformedRequest, "unexpected start");
    // Without an initial response the server sends an empty challenge and the client-first comes next.
    if (!initial_response)
        return Step::challenge({});
    return client_first(*initial_response);
}

Step Scram::step(std::string_view response)
{
    switch (state_) {
    case State::AwaitingClientFirst:
        return client_first(response);
    case State::AwaitingClientFinal:
        return client_final(response);
    case State::Done:
        break;
    }
    return fail(SaslFailure::MalformedRequest, "exchange already finished");
}

Step Scram::fail(SaslFailure failure, std::string_view text)
{
    state_ = State::Done;
    return Step::fail(failure, std::string(text));
}

std::string Scram::make_server_nonce() const
{
    if (ctx_.server_nonce)
        return ctx_.server_nonce();
    return crypto::base64_encode(crypto::random_bytes(18));
}

Step Scram::client_first(std::string_view message)
{
    auto first = scram::parse_client_first(message);
    if (!first)
        return fail(SaslFailure::MalformedRequest, first.error());

    // RFC 5802 §6: the gs2 flag must agree with the mechanism and with what the server offers.
    std::string_view cb_data;
    switch (first->flag) {
    case scram::CbFlag::Used: {
        if (!plus_)
            return fail(SaslFailure::MalformedRequest, "channel binding with a non-PLUS mechanism");
        const auto it = std::find_if(ctx_.bindings.begin(), ctx_.bindings.end(),
                                     [&](const ChannelBinding& b) { return b.type == first->cb_type; });
        // No credentials were tried: malformed-request (as Prosody answers), so it does not count as a failed
        // login. slixmpp 1.8 asks for tls-unique on TLS 1.3, then retries with the next mechanism.
        if (it == ctx_.bindings.end())
            return fail(SaslFailure::MalformedRequest, "unsupported-channel-binding-type");
        cb_data = it->data;
        break;
    }
    case scram::CbFlag::ServerLacksIt:
        if (plus_)
            return fail(SaslFailure::MalformedRequest, "-PLUS mechanism without channel binding");
        if (y_flag_is_downgrade(ctx_))
            return fail(SaslFailure::NotAuthorized, "server-does-support-channel-binding");
        break;
    case scram::CbFlag::NotSupported:
        if (plus_)
            return fail(SaslFailure::MalformedRequest, "-PLUS mechanism without channel binding");
        break;
    }

    auto username = xmpp::saslprep(first->username);
    if (!username || username->empty())
        return fail(SaslFailure::MalformedRequest, "invalid-username-encoding");

    // An unknown user gets the same flow with fake credentials and fails at the proof.
    keys_ = find_credentials(ctx_, *username, hash_).keys;
    authcid_ = std::move(*username);
    authzid_ = std::move(first->authzid);
    cbind_input_ = first->gs2_header;
    cbind_input_ += cb_data;
    nonce_ = first->nonce + make_server_nonce();

    std::string server_first = "r=" + nonce_ + ",s=" + crypto::base64_encode(keys_.salt) +
                               ",i=" + std::to_string(keys_.iterations);
    if (!ctx_.offered.empty()) {
        std::vector<std::string> types;
        for (const ChannelBinding& b : ctx_.bindings) types.push_back(b.type);
        server_first += ",d=" + downgrade_protection_hash(hash_, ctx_.offered, std::move(types));
    }
    auth_message_ = first->bare + "," + server_first + ",";
    state_ = State::AwaitingClientFinal;
    return Step::challenge(std::move(server_first));
}

Step Scram::client_final(std::string_view message)
{
    auto final_message = scram::parse_client_final(message);
    if (!final_message)
        return fail(SaslFailure::MalformedRequest, final_message.error());
    if (!crypto::constant_time_equal(final_message->channel_binding, cbind_input_))
        return fail(SaslFailure::NotAuthorized, "channel-bindings-dont-match");
    if (final_message->nonce != nonce_)
        return fail(SaslFailure::NotAuthorized, "nonce mismatch");

    auth_message_ += final_message->without_proof;
    // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the proof holds iff H(ClientKey) == StoredKey.
    const std::string& proof = final_message->proof;
    if (proof.size() != crypto::digest_size(hash_))
        return fail(SaslFailure::NotAuthorized, "invalid-proof");
    std::string client_key = crypto::hmac(hash_, keys_.stored_key, auth_message_);
    for (std::size_t i = 0; i < client_key.size(); ++i)
        client_key[i] = static_cast<char>(client_key[i] ^ proof[i]);
    if (!crypto::constant_time_equal(crypto::digest(hash_, client_key), keys_.stored_key))
        return fail(SaslFailure::NotAuthorized, "invalid-proof");

    state_ = State::Done;
    return Step::success("v=" + crypto::base64_encode(crypto::hmac(hash_, keys_.server_key, auth_message_)));
}

}  // namespace tern::sasl
