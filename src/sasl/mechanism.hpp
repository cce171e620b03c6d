#pragma once

// SASL mechanisms as pure server-side state machines: bytes in, a Step out. No I/O, no clock.
//
// All data is DECODED bytes; the session does the base64 of RFC 6120 §6.4. Its mapping:
//   <auth mechanism='X'/> (no text)       → start(std::nullopt)  (no initial response)
//   <auth mechanism='X'>=</auth>          → start("")            (an empty initial response, §6.4.2)
//   <auth mechanism='X'>BASE64</auth>     → start(decoded)
//   <response/> or <response>BASE64</response> → step("" or decoded)
//   invalid base64 anywhere               → incorrect-encoding, decided by the session
// and back:
//   Challenge{data}  → <challenge>base64(data)</challenge>, or <challenge/> when data is empty
//   Success{data}    → <success>base64(data)</success> (SCRAM's server-final), or <success/> when empty
//   Failure{failure} → <failure><condition/></failure>; `text` names the RFC 5802 server-error value or
//                      the reason, for the log (it never tells an unknown user from a wrong password).
#include "crypto/crypto.hpp"
#include "xmpp/errors.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::sasl {

struct Step {
    enum class Kind { Challenge, Success, Failure };

    Kind kind = Kind::Failure;
    std::string data;  // challenge bytes, or additional data with success
    xmpp::SaslFailure failure = xmpp::SaslFailure::NotAuthorized;  // meaningful for Kind::Failure
    std::string text;

    static Step challenge(std::string data);
    static Step success(std::string data = {});
    static Step fail(xmpp::SaslFailure failure, std::string text = {});
};

// Channel-binding data this TLS connection can offer, e.g. {"tls-exporter", 32 bytes} (RFC 9266),
// {"tls-server-end-point", hash} (RFC 5929), {"tls-unique", Finished} (TLS 1.2 only).
struct ChannelBinding {
    std::string type;
    std::string data;
};

struct ServerContext {
    bool tls = false;
    // The channel bindings the server supports on this connection. Non-empty means the server advertises
    // -PLUS, and a SCRAM client sending the "y" flag may then be refused as a downgrade (RFC 5802 §6, see
    // y_flag_is_downgrade). So leave it empty without TLS, and also when the configuration offers no -PLUS
    // mechanism.
    std::vector<ChannelBinding> bindings;
    // true: "y" is refused whenever bindings are offered (RFC 5802's letter, as Prosody 13 and ejabberd do).
    // false: only when tls-unique is among them (README, Security notes).
    bool strict_channel_binding_flag = false;
    // The mechanisms advertised on this connection: with `bindings`, the input of XEP-0474's d= attribute in
    // SCRAM's server-first message. Empty: no d= attribute.
    std::vector<std::string> offered;
    // Stored keys for a SASLprep'd username, or nullopt for an unknown user (or no keys for that hash).
    // Called off the I/O thread only (see Mechanism::blocking), so it must be thread-safe.
    std::function<std::optional<crypto::ScramKeys>(std::string_view username, crypto::Hash)> lookup;
    // The SCRAM server nonce: printable ASCII without ','. Empty function: base64 of 18 random bytes.
    std::function<std::string()> server_nonce;
    // Iteration count shown to unknown users; set it to what new accounts get so they look alike.
    std::uint32_t unknown_user_iterations = 4096;
    // Keys the salts shown to unknown users (an HMAC of realm and username): a secret that outlives the
    // process (data_dir/sasl_secret), so an unknown user's salt does not change at a restart either. Random
    // and secret, or anyone could compute the fake salts and tell them from real ones.
    std::string unknown_user_secret;
    std::string realm;  // the domain: the same username in two domains gets two salts, as real ones do
};

// RFC 5802 §6: a SCRAM client sending "y" believes the server cannot bind. When the server can, an attacker
// may have removed -PLUS from the mechanism list: true if that must fail the exchange here. Without bindings
// never. Strict: whenever there are bindings. Otherwise only when tls-unique is offered: the one binding that
// every client sending "y" in the wild knows (slixmpp 1.8, nbxmpp's older versions); where it is undefined (TLS
// 1.3, or TLS 1.2 without the extended master secret), such a client cannot bind whatever the server offers.
bool y_flag_is_downgrade(const ServerContext& ctx);

class Mechanism {
public:
    virtual ~Mechanism();

    virtual Step start(std::optional<std::string_view> initial_response) = 0;
    virtual Step step(std::string_view response) = 0;

    // True if the next start/step may block: PBKDF2 (milliseconds) or a read of the account store (the
    // lookup), which can wait on a lock. Asked before each call; run it off the I/O thread then.
    virtual bool blocking() const { return false; }

    // After Success: the authenticated username (SASLprep'd, not yet nodeprep'd) and the requested
    // authorization identity (empty if none). Whether the authzid is acceptable is the session's decision.
    // After a NotAuthorized failure, authcid() is the username the client claimed, if it got that far.
    std::string_view authcid() const { return authcid_; }
    std::string_view authzid() const { return authzid_; }

protected:
    Mechanism() = default;
    Mechanism(const Mechanism&) = default;
    Mechanism& operator=(const Mechanism&) = default;

    std::string authcid_;
    std::string authzid_;
};

// A fresh mechanism, or nullptr if the name is unknown or never usable here (PLAIN without TLS, -PLUS
// without channel bindings). Names are matched exactly (SASL mechanism names are upper case).
std::unique_ptr<Mechanism> make_mechanism(std::string_view name, const ServerContext& ctx);

// The configured mechanisms this connection can offer, strongest first: SCRAM-SHA-256-PLUS,
// SCRAM-SHA-1-PLUS, SCRAM-SHA-256, SCRAM-SHA-1, PLAIN. Unknown names are ignored.
std::vector<std::string> offered_mechanisms(const std::vector<std::string>& configured, const ServerContext& ctx);

}  // namespace tern::sasl
