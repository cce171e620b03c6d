#pragma once

// The c2s stream as a pure state machine (RFC 6120 §4-§7): bytes in, bytes and actions out, no I/O.
// net::Connection feeds it plaintext, writes what take_output() returns, and carries out the one pending
// action (start TLS, run a blocking SASL step off the I/O thread, fetch a resumed session, close).
// Stream management (XEP-0198) and client state indication (XEP-0352) live here too, as state.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/crypto.hpp"
#include "sasl/mechanism.hpp"
#include "server/client_state.hpp"
#include "server/session_config.hpp"
#include "server/stream_management.hpp"
#include "xml/stanza.hpp"
#include "xml/tokenizer.hpp"
#include "xmpp/errors.hpp"
#include "xmpp/jid.hpp"

namespace tern::server {

// What the connection knows about its TLS layer once the handshake is done.
struct TlsInfo {
    std::vector<sasl::ChannelBinding> bindings;
    std::string server_name;  // SNI, empty if none was sent
};

enum class BindOutcome { Bound, ResourceLimit };

// A session's state as it moves to the connection that resumes it (XEP-0198).
struct ResumeState {
    xmpp::Jid jid;  // full
    StreamManagement sm;
    ClientState csi;
};

// Why a resumption is refused. ItemNotFound covers unknown, expired and other accounts' ids alike.
struct ResumeFailure {
    enum class Reason { ItemNotFound, HandledCountTooHigh } reason = Reason::ItemNotFound;
    std::uint32_t h = 0;           // HandledCountTooHigh: the client's h
    std::uint32_t send_count = 0;  // and how many stanzas were sent
};

// The world outside one session: accounts, the per-address auth limiter, the session registry and the
// router. Implemented by net/ (and by a fake in unit tests). scram_keys may be called from a pool thread.
class SessionHost {
public:
    virtual ~SessionHost() = default;
    virtual std::optional<crypto::ScramKeys> scram_keys(std::string_view domain, std::string_view local,
                                                        crypto::Hash hash) = 0;
    // A password check for `account` (local@domain as the client named it) ended, right or wrong (wrong
    // includes an unknown account). Returns how long to hold the answer back (the same either way).
    virtual std::chrono::milliseconds auth_checked(const std::string& account, bool failed) = 0;
    virtual BindOutcome bind(const xmpp::Jid& full_jid) = 0;  // newest wins: an older session is kicked
    // A stanza from the bound session, 'from' stamped. False: its handling goes on (an awaitable IQ handler);
    // the session waits in Action::Route, and its later stanzas with it, until routed() is called.
    virtual bool route(xml::Stanza&& stanza) = 0;
    // The bound session may now be resumed with this SM-ID (XEP-0198 <enable resume='true'/>).
    virtual void enable_resumption(std::string_view id) = 0;
};

class Session {
public:
    enum class State {
        AwaitingStreamHeader,  // initial, and after each stream restart
        Negotiating,           // features sent; STARTTLS, SASL or bind expected
        Authenticating,        // inside a SASL exchange
        Resuming,              // <resume/> received; waiting for the old session's state
        Bound,                 // resource bound: stanzas are routed
        Detached,              // resumable, but the client is gone: deliveries wait for a resumption
        Closed,
    };

    enum class Action {
        None,
        StartTls,     // flush output, run the TLS handshake, then call tls_established()
        RunBlocking,  // run take_blocking_job() off the I/O thread, then call blocking_done()
        Route,        // finish the stanza route() left pending, then call routed()
        Resume,       // fetch the session resume_request() names, then call resumed() or resume_failed()
        Wait,         // wait wait_time() (a login's answer held back after failed logins), then call wait_done()
        Close,        // flush output, close TLS and TCP
    };

    struct ResumeRequest {
        std::string previd;
        std::uint32_t h = 0;
    };

    Session(std::shared_ptr<const SessionConfig> config, SessionHost& host, std::optional<TlsInfo> direct_tls);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    void receive(std::string_view plaintext);
    void tls_established(TlsInfo info);
    std::function<sasl::Step()> take_blocking_job();
    void blocking_done(sasl::Step step);
    // The stanza route() left pending is handled (its reply, if any, already delivered): go on reading.
    void routed();
    std::chrono::milliseconds wait_time() const { return wait_; }
    void wait_done();

    // Ends the stream with a stream error (timeouts, shutdown, a newer session for this resource, an
    // outbox the peer never drains...). Safe in any state.
    void fail(xmpp::StreamErrorCondition condition, std::string_view text = {});
    // The peer's TCP connection is gone (or went silent): no more output. A resumable bound session becomes
    // Detached and keeps queueing deliveries; any other session is Closed.
    void peer_closed();

    // Everything to write now, with an XEP-0198 <r/> at the end when stanzas went out unacknowledged.
    std::string take_output();
    bool has_output() const { return !out_.empty(); }
    // A routed stanza for this session. Counted and kept for XEP-0198 once it is enabled; availability
    // presence is held back while the client is inactive (XEP-0352).
    void deliver(const Envelope& stanza);
    void deliver(const Envelopes& stanzas)
    {
        for (const auto& stanza : stanzas) deliver(stanza);
    }
    // What waits in this session for its client (XEP-0198 unacknowledged, XEP-0352 held, arrived while
    // resuming): the queue that deliveries are admitted to within its bound (see server/delivery_queue.hpp).
    std::size_t queued_bytes() const { return sm_.unacked_bytes() + csi_.held_bytes() + resume_pending_bytes_; }
    std::size_t queued_stanzas() const { return sm_.unacked_count() + csi_.held_count() + resume_pending_.size(); }
    // XEP-0199: asks the bound client whether it is still there (its answer is consumed here).
    void ping();

    // XEP-0198 resumption, new connection's side (Action::Resume).
    const ResumeRequest& resume_request() const { return resume_request_; }
    // Also when the session has been closed meanwhile: it then keeps the state only for take_unacked().
    void resumed(ResumeState state);
    void resume_failed(ResumeFailure failure);
    // The old connection's side: whether a resumption acknowledging `h` is acceptable, then hand_over()
    // (an attached client gets a conflict stream error; deliveries keep queueing) and take_resume_state().
    std::optional<ResumeFailure> check_takeover(std::uint32_t h) const;
    void hand_over();
    ResumeState take_resume_state(std::uint32_t h);

    bool resumable() const { return sm_.resumable(); }
    const std::string& sm_id() const { return sm_.id(); }
    std::chrono::seconds resume_timeout() const { return sm_.resume_timeout(); }
    // The session ends for good: the stanzas the client never acknowledged, to be bounced.
    std::vector<Unacked> take_unacked() { return sm_.take_unacked(); }

    Action action() const { return action_; }
    State state() const { return state_; }
    bool secure() const { return secure_; }
    bool authenticated() const { return !jid_.empty(); }
    const xmpp::Jid& jid() const { return jid_; }  // bare after SASL, full after bind
    const std::string& stream_id() const { return stream_id_; }

private:
    void process();
    void on_stream_open();
    void on_element(const xml::Event& event);
    void on_stream_close();

    void handle_starttls(const xml::Stanza& el);
    void handle_auth(const xml::Stanza& el);
    void handle_response(const xml::Stanza& el);
    void handle_abort();
    void apply_sasl_step(sasl::Step step);
    void answer_sasl_step(sasl::Step step);
    void sasl_failure(xmpp::SaslFailure failure, std::string_view text = {});
    void handle_unbound_stanza(xml::Stanza&& stanza);
    void handle_bind(const xml::Stanza& iq);
    void handle_bound_stanza(xml::Stanza&& stanza);
    void handle_sm(const xml::Stanza& element);
    void handle_enable(const xml::Stanza& enable);
    void handle_resume(const xml::Stanza& resume);
    void handle_csi(std::string_view name);

    void send_stanza(const Envelope& stanza);
    void emit(const Envelope& stanza);
    void flush_held();
    void sm_failed(xmpp::StanzaErrorCondition condition);
    void handled_count_too_high(std::uint32_t h, std::uint32_t send_count);
    void close_with(std::string_view error_xml, xmpp::StreamErrorCondition condition, std::string_view text);

    void send_stream_header();
    void send_features();
    void restart_stream();
    void stanza_error(const xml::Stanza& request, xmpp::StanzaErrorCondition condition, std::string_view text = {});
    sasl::ServerContext sasl_context() const;

    std::shared_ptr<const SessionConfig> config_;
    SessionHost& host_;
    xml::Tokenizer tokenizer_;
    bool secure_ = false;
    std::unique_ptr<TlsInfo> tls_;  // only until SASL succeeds: channel bindings are for authentication
    State state_ = State::AwaitingStreamHeader;
    Action action_ = Action::None;
    std::string out_;
    std::string stream_id_;
    std::string domain_;  // the served domain the client asked for
    std::string lang_;
    bool header_sent_ = false;
    bool peer_header_ = false;  // the tokenizer holds the peer's current stream header
    xmpp::Jid jid_;
    std::shared_ptr<sasl::Mechanism> mechanism_;  // shared with a pool job while a blocking step runs
    std::optional<std::string> blocking_input_;
    bool blocking_is_start_ = false;
    unsigned auth_failures_ = 0;
    std::optional<sasl::Step> held_step_;  // the answer of a password check, during Action::Wait
    std::chrono::milliseconds wait_{0};
    StreamManagement sm_;
    ClientState csi_;
    ResumeRequest resume_request_;
    Envelopes resume_pending_;    // deliveries that arrive while Resuming
    std::size_t resume_pending_bytes_ = 0;
    std::string ping_id_;         // of our unanswered XEP-0199 ping
    std::uint32_t pings_ = 0;
};

std::string_view to_string(Session::State state);

}  // namespace tern::server
