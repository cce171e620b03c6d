#include "server/session.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "base/log.hpp"
#include "xml/writer.hpp"
#include "xmpp/ns.hpp"

namespace tern::server {

namespace {

using xmpp::SaslFailure;
using xmpp::StanzaErrorCondition;
using xmpp::StreamErrorCondition;

std::string random_hex(std::size_t bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    const std::string raw = crypto::random_bytes(bytes);
    std::string hex;
    hex.reserve(raw.size() * 2);
    for (unsigned char c : raw) {
        hex += digits[c >> 4];
        hex += digits[c & 0xf];
    }
    return hex;
}

// RFC 6120 §4.7.5: "major.minor", each a non-negative integer.
std::optional<std::pair<unsigned, unsigned>> parse_version(std::string_view text)
{
    const auto dot = text.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size()) return std::nullopt;
    unsigned major = 0;
    unsigned minor = 0;
    const auto m = std::from_chars(text.data(), text.data() + dot, major);
    const auto n = std::from_chars(text.data() + dot + 1, text.data() + text.size(), minor);
    if (m.ec != std::errc{} || m.ptr != text.data() + dot) return std::nullopt;
    if (n.ec != std::errc{} || n.ptr != text.data() + text.size()) return std::nullopt;
    return std::pair{major, minor};
}

// SASL payloads travel base64-encoded; "=" is the empty payload (RFC 6120 §6.4.2).
std::optional<std::string> decode_sasl_payload(std::string_view text)
{
    if (text == "=") return std::string{};
    return crypto::base64_decode(text);
}

bool is_stanza_name(std::string_view name)
{
    return name == "message" || name == "presence" || name == "iq";
}

// XEP-0198 sequence numbers: unsigned 32-bit decimal.
std::optional<std::uint32_t> parse_u32(std::string_view text)
{
    std::uint32_t value = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || r.ec != std::errc{} || r.ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

std::string_view to_string(Session::State state)
{
    switch (state) {
    case Session::State::AwaitingStreamHeader: return "awaiting-stream-header";
    case Session::State::Negotiating: return "negotiating";
    case Session::State::Authenticating: return "authenticating";
    case Session::State::Resuming: return "resuming";
    case Session::State::Bound: return "bound";
    case Session::State::Detached: return "detached";
    case Session::State::Closed: return "closed";
    }
    return "?";
}

Session::Session(std::shared_ptr<const SessionConfig> config, SessionHost& host, std::optional<TlsInfo> direct_tls)
    : config_(std::move(config)),
      host_(host),
      tokenizer_(config_->xml_limits),
      secure_(direct_tls.has_value()),
      tls_(direct_tls ? std::make_unique<TlsInfo>(std::move(*direct_tls)) : nullptr)
{
}

Session::~Session() = default;

void Session::receive(std::string_view plaintext)
{
    if (state_ == State::Closed) return;
    tokenizer_.feed(plaintext);
    process();
}

void Session::process()
{
    while (action_ == Action::None && state_ != State::Closed) {
        const xml::Event event = tokenizer_.next();
        switch (event.kind) {
        case xml::EventKind::NeedMore: return;
        case xml::EventKind::StreamOpen: on_stream_open(); break;
        case xml::EventKind::Stanza: on_element(event); break;
        case xml::EventKind::StreamClose: on_stream_close(); break;
        case xml::EventKind::Error:
            fail(xmpp::from_xml_error(tokenizer_.error().condition), tokenizer_.error().text);
            break;
        }
    }
}

//---------------------------------------------------------------------------------------------------------
// Stream header and features

void Session::on_stream_open()
{
    const xml::StreamHeader& header = tokenizer_.header();
    peer_header_ = true;
    if (lang_.empty()) {
        const std::string_view lang = header.attr("xml:lang");
        lang_ = lang.empty() ? "en" : std::string(lang);
    }
    if (header.ns() != xmpp::ns::streams || header.local_name() != "stream")
        return fail(StreamErrorCondition::InvalidNamespace, "the stream element must be {http://etherx.jabber.org/streams}stream");
    if (header.scope().default_ns() != xmpp::ns::client)
        return fail(StreamErrorCondition::InvalidNamespace, "this port serves the jabber:client namespace");

    const auto to = xmpp::Jid::prep_domain(header.attr("to"));
    if (!to || !config_->serves(*to)) return fail(StreamErrorCondition::HostUnknown);
    if (!domain_.empty() && *to != domain_)
        return fail(StreamErrorCondition::HostUnknown, "the domain changed across a stream restart");
    domain_ = *to;

    const auto version = parse_version(header.attr("version"));
    if (!version || version->first < 1) {
        // RFC 6120 §4.7.5: no version means a pre-XMPP-1.0 client, which we do not support.
        return fail(StreamErrorCondition::UnsupportedVersion, "XMPP 1.0 or later is required");
    }

    send_stream_header();
    send_features();
    state_ = State::Negotiating;
    // Stanzas need only the header's namespace scope from here on.
    tokenizer_.drop_header_attributes();
}

void Session::send_stream_header()
{
    stream_id_ = random_hex(16);
    // The peer's header is only there once the tokenizer has reported it (not for an early error).
    const std::string_view peer = peer_header_ ? tokenizer_.header().attr("from") : std::string_view{};
    const bool echo_from = !peer.empty() && xmpp::Jid::parse(peer).has_value();
    const std::string_view lang = lang_.empty() ? std::string_view("en") : std::string_view(lang_);
    std::initializer_list<xml::Attribute> with_to = {
        {"from", domain_}, {"id", stream_id_}, {"to", peer}, {"version", "1.0"}, {"xml:lang", lang}};
    std::initializer_list<xml::Attribute> without_to = {
        {"from", domain_}, {"id", stream_id_}, {"version", "1.0"}, {"xml:lang", lang}};
    xml::append_stream_header(out_, xmpp::ns::client, echo_from ? with_to : without_to);
    header_sent_ = true;
}

void Session::send_features()
{
    xml::Writer w(out_);
    w.open("stream:features");
    if (!authenticated()) {
        if (!secure()) {
            w.open("starttls").attr("xmlns", xmpp::ns::tls);
            if (config_->require_tls) w.leaf("required");
            w.close();
        }
        if (secure() || !config_->require_tls) {
            const sasl::ServerContext context = sasl_context();
            w.open("mechanisms").attr("xmlns", xmpp::ns::sasl);
            for (const auto& name : sasl::offered_mechanisms(config_->sasl_mechanisms, context))
                w.leaf("mechanism", name);
            w.close();
            if (!context.bindings.empty()) {
                // XEP-0440: tell the client which channel-binding types it can use with -PLUS.
                w.open("sasl-channel-binding").attr("xmlns", xmpp::ns::sasl_cb);
                for (const auto& binding : context.bindings)
                    w.open("channel-binding").attr("type", binding.type).close();
                w.close();
            }
        }
    } else {
        w.open("bind").attr("xmlns", xmpp::ns::bind).close();
        w.open("session").attr("xmlns", xmpp::ns::session).leaf("optional").close();
        w.open("sm").attr("xmlns", xmpp::ns::sm).close();
        w.open("csi").attr("xmlns", xmpp::ns::csi).close();
        w.open("ver").attr("xmlns", xmpp::ns::roster_versioning).close();  // RFC 6121 §2.6.1
    }
    w.close();
}

void Session::restart_stream()
{
    tokenizer_.restart();
    header_sent_ = false;
    peer_header_ = false;
    state_ = State::AwaitingStreamHeader;
}

void Session::on_stream_close()
{
    if (header_sent_) xml::append_stream_close(out_);
    state_ = State::Closed;
    action_ = Action::Close;
}

//---------------------------------------------------------------------------------------------------------
// Top-level elements

void Session::on_element(const xml::Event& event)
{
    auto parsed = xml::Stanza::parse(event, tokenizer_.header().scope());
    if (!parsed) return fail(xmpp::from_xml_error(parsed.error().condition), parsed.error().text);
    xml::Stanza stanza = std::move(*parsed);
    const std::string_view ns = stanza.ns();
    const std::string_view name = stanza.name();

    if (ns == xmpp::ns::client && is_stanza_name(name)) {
        // RFC 6120 §4.9.3.12: stanzas before authentication end the stream, unprocessed.
        if (!authenticated() || state_ == State::Authenticating)
            return fail(StreamErrorCondition::NotAuthorized, "authenticate first");
        if (state_ != State::Bound) return handle_unbound_stanza(std::move(stanza));
        if (sm_.enabled()) sm_.handled();
        return handle_bound_stanza(std::move(stanza));
    }
    const bool signed_in = authenticated() && state_ != State::Authenticating;
    if (ns == xmpp::ns::sm && signed_in) return handle_sm(stanza);
    if (ns == xmpp::ns::csi && signed_in && (name == "active" || name == "inactive")) return handle_csi(name);
    if (ns == xmpp::ns::tls && name == "starttls") return handle_starttls(stanza);
    if (ns == xmpp::ns::sasl) {
        if (name == "auth") return handle_auth(stanza);
        if (name == "response") return handle_response(stanza);
        if (name == "abort") return handle_abort();
    }
    fail(StreamErrorCondition::UnsupportedStanzaType, fmt::format("unexpected <{}/> in {}", name, ns));
}

void Session::handle_starttls(const xml::Stanza&)
{
    if (secure() || authenticated() || state_ != State::Negotiating)
        return fail(StreamErrorCondition::PolicyViolation, "STARTTLS is not offered at this point");
    // Anything pipelined after <starttls/> was sent in plaintext and must not be read as if it came
    // through TLS (the STARTTLS command injection attack).
    if (tokenizer_.unconsumed() > 0)
        return fail(StreamErrorCondition::PolicyViolation, "data sent after <starttls/>");
    xml::Writer(out_).open("proceed").attr("xmlns", xmpp::ns::tls).close();
    action_ = Action::StartTls;
}

void Session::tls_established(TlsInfo info)
{
    secure_ = true;
    tls_ = std::make_unique<TlsInfo>(std::move(info));
    action_ = Action::None;
    restart_stream();
    process();
}

//---------------------------------------------------------------------------------------------------------
// SASL (RFC 6120 §6)

sasl::ServerContext Session::sasl_context() const
{
    sasl::ServerContext context;
    context.tls = secure();
    // Offering bindings makes a SCRAM client's "y" flag a downgrade (RFC 5802 §6), so offer them only
    // when a -PLUS mechanism is configured.
    const bool plus_configured = std::any_of(config_->sasl_mechanisms.begin(), config_->sasl_mechanisms.end(),
                                             [](const std::string& m) { return m.ends_with("-PLUS"); });
    if (tls_ && plus_configured) context.bindings = tls_->bindings;
    context.strict_channel_binding_flag = config_->strict_channel_binding_flag;
    context.unknown_user_iterations = config_->scram_iterations;
    context.unknown_user_secret = config_->unknown_user_secret;
    context.realm = domain_;
    context.offered = sasl::offered_mechanisms(config_->sasl_mechanisms, context);
    // Copies, not `this`: a blocking step runs this lookup on a pool thread.
    context.lookup = [&host = host_, domain = domain_](std::string_view username, crypto::Hash hash)
        -> std::optional<crypto::ScramKeys> {
        const auto local = xmpp::Jid::prep_local(username);
        if (!local) return std::nullopt;
        return host.scram_keys(domain, *local, hash);
    };
    return context;
}

void Session::handle_auth(const xml::Stanza& auth)
{
    if (state_ != State::Negotiating || authenticated())
        return fail(StreamErrorCondition::PolicyViolation, "authentication is not expected now");
    if (!secure() && config_->require_tls) return sasl_failure(SaslFailure::EncryptionRequired);

    const std::string_view name = auth.attr("mechanism");
    const sasl::ServerContext context = sasl_context();
    const auto offered = sasl::offered_mechanisms(config_->sasl_mechanisms, context);
    if (std::find(offered.begin(), offered.end(), name) == offered.end())
        return sasl_failure(SaslFailure::InvalidMechanism);

    std::optional<std::string> initial;
    const std::string_view text = auth.root().text();
    if (!text.empty()) {
        initial = decode_sasl_payload(text);
        if (!initial) return sasl_failure(SaslFailure::IncorrectEncoding);
    }
    mechanism_ = sasl::make_mechanism(name, context);
    if (!mechanism_) return sasl_failure(SaslFailure::InvalidMechanism);
    state_ = State::Authenticating;
    if (mechanism_->blocking()) {
        blocking_input_ = std::move(initial);
        blocking_is_start_ = true;
        action_ = Action::RunBlocking;
        return;
    }
    apply_sasl_step(mechanism_->start(initial));
}

void Session::handle_response(const xml::Stanza& response)
{
    if (state_ != State::Authenticating || !mechanism_) return sasl_failure(SaslFailure::MalformedRequest, "no exchange in progress");
    auto data = decode_sasl_payload(response.root().text());
    if (!data) return sasl_failure(SaslFailure::IncorrectEncoding);
    if (mechanism_->blocking()) {
        blocking_input_ = std::move(data);
        blocking_is_start_ = false;
        action_ = Action::RunBlocking;
        return;
    }
    apply_sasl_step(mechanism_->step(*data));
}

void Session::handle_abort()
{
    if (state_ != State::Authenticating) return fail(StreamErrorCondition::PolicyViolation, "no exchange to abort");
    sasl_failure(SaslFailure::Aborted);
}

std::function<sasl::Step()> Session::take_blocking_job()
{
    return [mechanism = mechanism_, input = std::move(blocking_input_), start = blocking_is_start_]() {
        if (start) return mechanism->start(input);
        return mechanism->step(input.value_or(std::string{}));
    };
}

void Session::blocking_done(sasl::Step step)
{
    if (action_ != Action::RunBlocking) return;
    action_ = Action::None;
    if (state_ == State::Closed) return;
    apply_sasl_step(std::move(step));
    process();
}

void Session::wait_done()
{
    if (action_ != Action::Wait) return;
    action_ = Action::None;
    if (state_ == State::Closed || !held_step_) return;
    sasl::Step step = std::move(*held_step_);
    held_step_.reset();
    answer_sasl_step(std::move(step));
    process();
}

void Session::apply_sasl_step(sasl::Step step)
{
    // A password was checked (right, wrong or for no such account): the limits may hold the answer back.
    const bool checked = step.kind == sasl::Step::Kind::Success ||
        (step.kind == sasl::Step::Kind::Failure && step.failure == SaslFailure::NotAuthorized);
    if (checked && mechanism_) {
        const auto local = xmpp::Jid::prep_local(mechanism_->authcid());
        const std::string account = local && !local->empty() ? *local + '@' + domain_ : std::string();
        wait_ = host_.auth_checked(account, step.kind == sasl::Step::Kind::Failure);
        if (wait_.count() > 0) {
            held_step_ = std::move(step);
            action_ = Action::Wait;
            return;
        }
    }
    answer_sasl_step(std::move(step));
}

void Session::answer_sasl_step(sasl::Step step)
{
    switch (step.kind) {
    case sasl::Step::Kind::Challenge: {
        xml::Writer(out_).open("challenge").attr("xmlns", xmpp::ns::sasl).text(crypto::base64_encode(step.data)).close();
        return;
    }
    case sasl::Step::Kind::Failure:
        return sasl_failure(step.failure, step.text);
    case sasl::Step::Kind::Success: break;
    }

    const auto local = xmpp::Jid::prep_local(mechanism_->authcid());
    const auto bare = local ? xmpp::Jid::make(*local, domain_) : tern::make_unexpected(local.error());
    if (!bare) return sasl_failure(SaslFailure::NotAuthorized);
    const std::string_view authzid = mechanism_->authzid();
    if (!authzid.empty()) {
        const auto requested = xmpp::Jid::parse(authzid);
        if (!requested || *requested != *bare) return sasl_failure(SaslFailure::InvalidAuthzid);
    }
    xml::Writer(out_).open("success").attr("xmlns", xmpp::ns::sasl).text(crypto::base64_encode(step.data)).close();
    jid_ = *bare;
    log::info("c2s.authenticated", "jid={} stream={}", log::quote(jid_.bare_str()), stream_id_);
    mechanism_.reset();
    tls_.reset();
    restart_stream();
}

void Session::sasl_failure(SaslFailure failure, std::string_view text)
{
    out_ += xmpp::sasl_failure_xml(failure, text);
    mechanism_.reset();
    state_ = State::Negotiating;
    log::info("c2s.auth_failed", "condition={} stream={}", xmpp::to_string(failure), stream_id_);
    if (++auth_failures_ >= config_->max_auth_attempts)
        fail(StreamErrorCondition::PolicyViolation, "too many authentication attempts");
}

//---------------------------------------------------------------------------------------------------------
// Resource binding (RFC 6120 §7) and stanzas

void Session::handle_unbound_stanza(xml::Stanza&& stanza)
{
    const std::string_view type = stanza.attr("type");
    if (stanza.name() == "iq" && type == "set" && stanza.root().child("bind", xmpp::ns::bind))
        return handle_bind(stanza);
    // RFC 6120 §7.1: before binding the server must not process any other stanza.
    if (type != "error" && type != "result")
        stanza_error(stanza, StanzaErrorCondition::NotAuthorized, "bind a resource first");
}

void Session::handle_bind(const xml::Stanza& iq)
{
    const xml::Element bind = iq.root().child("bind", xmpp::ns::bind);
    const xml::Element requested = bind.child("resource", xmpp::ns::bind);
    std::string resource;
    if (requested && !requested.text().empty()) {
        auto prepared = xmpp::Jid::prep_resource(requested.text());
        if (!prepared) return stanza_error(iq, StanzaErrorCondition::BadRequest, "invalid resource");
        resource = std::move(*prepared);
    } else {
        resource = "tern-" + random_hex(6);
    }

    xmpp::Jid full = jid_.with_resource(resource);
    if (host_.bind(full) == BindOutcome::ResourceLimit)
        return stanza_error(iq, StanzaErrorCondition::ResourceConstraint, "too many resources bound to this account");
    jid_ = std::move(full);
    state_ = State::Bound;
    log::info("c2s.bound", "jid={} stream={}", log::quote(jid_.str()), stream_id_);

    xml::Writer w(out_);
    w.open("iq").attr("type", "result").attr("id", iq.attr("id"));
    w.open("bind").attr("xmlns", xmpp::ns::bind).leaf("jid", jid_.str());
    w.close_all();
}

void Session::handle_bound_stanza(xml::Stanza&& stanza)
{
    if (!ping_id_.empty() && stanza.name() == "iq" && stanza.id() == ping_id_ &&
        (stanza.type() == "result" || stanza.type() == "error") && (stanza.to().empty() || stanza.to() == domain_)) {
        ping_id_.clear();  // the answer to our ping: the client is there, nothing to route
        return;
    }
    // RFC 6120 §8.1.2.1: the server stamps 'from'; a client may only claim its own full or bare JID.
    const std::string_view from = stanza.attr("from");
    if (!from.empty()) {
        const auto claimed = xmpp::Jid::parse(from);
        if (!claimed || (*claimed != jid_ && *claimed != jid_.bare()))
            return fail(StreamErrorCondition::InvalidFrom, "'from' does not match the bound JID");
    }
    stanza.root().set_attr("from", jid_.str());

    if (stanza.name() == "iq" && stanza.attr("type") == "set" && stanza.root().child("session", xmpp::ns::session)) {
        // Legacy session establishment (RFC 3921), advertised as optional: a no-op that succeeds.
        std::string result;
        xml::Writer(result).open("iq").attr("type", "result").attr("id", stanza.attr("id")).close();
        send_stanza(Envelope::make({StanzaKind::Iq, {}, {}, "result", std::string(stanza.attr("id"))}, std::move(result)));
        return;
    }
    if (!host_.route(std::move(stanza))) action_ = Action::Route;
}

void Session::routed()
{
    if (action_ != Action::Route) return;
    action_ = Action::None;
    process();
}

void Session::stanza_error(const xml::Stanza& request, StanzaErrorCondition condition, std::string_view text)
{
    xmpp::append_error_reply(out_, request, xmpp::StanzaError::of(condition, std::string(text)));
}

//---------------------------------------------------------------------------------------------------------
// Outbound stanzas: XEP-0352 hold-back, XEP-0198 counting

void Session::deliver(const Envelope& stanza)
{
    if (state_ == State::Bound || state_ == State::Detached) return send_stanza(stanza);
    if (state_ != State::Resuming) return;
    resume_pending_.push_back(stanza);
    resume_pending_bytes_ += stanza.bytes().size();
}

void Session::send_stanza(const Envelope& stanza)
{
    if (!csi_.hold(stanza)) {
        flush_held();  // what was held goes first: the client sees stanzas in the order they came
        emit(stanza);
    } else if (csi_.held_bytes() > config_->max_unacked_bytes / 4) {
        flush_held();
    }
    // Deliveries from others are admitted within max_unacked_bytes (and bounced beyond it), so only the
    // session's own replies can pass it: a client that keeps asking and never acknowledges is not
    // buffered for ever.
    if (sm_.unacked_bytes() > 2 * config_->max_unacked_bytes)
        fail(StreamErrorCondition::PolicyViolation, "too many unacknowledged stanzas");
}

void Session::flush_held()
{
    if (!csi_.holding()) return;
    for (const auto& stanza : csi_.take_held()) emit(stanza);
}

void Session::emit(const Envelope& stanza)
{
    if (state_ == State::Bound) out_ += stanza.bytes();
    if (sm_.enabled()) sm_.sent(stanza, std::chrono::system_clock::now());
}

std::string Session::take_output()
{
    if (state_ == State::Bound && sm_.take_ack_request()) xml::Writer(out_).open("r").attr("xmlns", xmpp::ns::sm).close();
    return std::move(out_);
}

void Session::ping()
{
    if (state_ != State::Bound) return;
    ping_id_ = "ping-" + std::to_string(++pings_);
    std::string iq;
    xml::Writer w(iq);
    w.open("iq").attr("type", "get").attr("id", ping_id_).attr("to", jid_.str()).attr("from", domain_);
    w.open("ping").attr("xmlns", xmpp::ns::ping).close();
    w.close_all();
    send_stanza(Envelope::make({StanzaKind::Iq, jid_.str(), domain_, "get", ping_id_}, std::move(iq)));
}

void Session::handle_csi(std::string_view name)
{
    csi_.set_active(name == "active");
    if (csi_.active()) flush_held();
}

//---------------------------------------------------------------------------------------------------------
// XEP-0198 Stream Management

void Session::handle_sm(const xml::Stanza& element)
{
    const std::string_view name = element.name();
    if (name == "enable") return handle_enable(element);
    if (name == "resume") return handle_resume(element);
    if (name == "r" && sm_.enabled()) {
        xml::Writer(out_).open("a").attr("xmlns", xmpp::ns::sm).attr("h", std::to_string(sm_.inbound())).close();
        return;
    }
    if (name == "a" && sm_.enabled()) {
        const auto h = parse_u32(element.attr("h"));
        if (!h) return fail(StreamErrorCondition::InvalidXml, "'h' must be an unsigned 32-bit integer");
        if (sm_.too_high(*h)) return handled_count_too_high(*h, sm_.sent_count());
        sm_.acknowledge(*h);
        if (state_ == State::Bound && sm_.take_ack_request())
            xml::Writer(out_).open("r").attr("xmlns", xmpp::ns::sm).close();
        return;
    }
    fail(StreamErrorCondition::UnsupportedStanzaType, fmt::format("unexpected <{}/> in {}", name, xmpp::ns::sm));
}

void Session::handle_enable(const xml::Stanza& enable)
{
    // Only after resource binding, and only once (XEP-0198 §3).
    if (state_ != State::Bound || sm_.enabled()) return sm_failed(StanzaErrorCondition::UnexpectedRequest);
    std::string id;
    std::chrono::seconds timeout = config_->sm_resume_timeout;
    const std::string_view resume = enable.attr("resume");
    if (resume == "true" || resume == "1") {
        const auto max = parse_u32(enable.attr("max"));
        if (max && *max > 0) timeout = std::min(timeout, std::chrono::seconds(*max));
        id = random_hex(16);
    }
    sm_.enable(id, timeout);
    xml::Writer w(out_);
    w.open("enabled").attr("xmlns", xmpp::ns::sm);
    if (!id.empty()) w.attr("id", id).attr("resume", "true").attr("max", std::to_string(timeout.count()));
    w.close();
    if (!id.empty()) host_.enable_resumption(id);
    log::info("c2s.sm_enabled", "jid={} resumable={} stream={}", log::quote(jid_.str()), !id.empty(), stream_id_);
}

void Session::handle_resume(const xml::Stanza& resume)
{
    // Instead of binding a resource (XEP-0198 §5).
    if (state_ != State::Negotiating) return sm_failed(StanzaErrorCondition::UnexpectedRequest);
    const auto h = parse_u32(resume.attr("h"));
    const std::string_view previd = resume.attr("previd");
    if (!h || previd.empty()) return sm_failed(StanzaErrorCondition::BadRequest);
    resume_request_ = {std::string(previd), *h};
    state_ = State::Resuming;
    action_ = Action::Resume;
}

void Session::resumed(ResumeState state)
{
    jid_ = std::move(state.jid);
    sm_ = std::move(state.sm);
    if (state_ != State::Resuming || action_ != Action::Resume) return;
    action_ = Action::None;
    state_ = State::Bound;
    std::exchange(resume_request_, {});
    xml::Writer(out_)
        .open("resumed")
        .attr("xmlns", xmpp::ns::sm)
        .attr("h", std::to_string(sm_.inbound()))
        .attr("previd", sm_.id())
        .close();
    // The stanzas the client did not acknowledge, again and in order; they keep their sequence numbers.
    sm_.for_each_unacked([this](const Unacked& unacked) { out_ += unacked.stanza.bytes(); });
    sm_.resumed();
    // Then what the old connection held back for an inactive client (this stream decides anew), then
    // what arrived during the handover.
    deliver(state.csi.take_held());
    resume_pending_bytes_ = 0;
    deliver(std::exchange(resume_pending_, {}));
    log::info("c2s.resumed", "jid={} unacked={} stream={}", log::quote(jid_.str()), sm_.unacked_count(), stream_id_);
    process();
}

void Session::resume_failed(ResumeFailure failure)
{
    if (state_ != State::Resuming || action_ != Action::Resume) return;
    action_ = Action::None;
    state_ = State::Negotiating;
    std::exchange(resume_request_, {});  // releases the id's memory, unlike an assignment
    Envelopes().swap(resume_pending_);
    resume_pending_bytes_ = 0;
    log::info("c2s.resume_failed", "jid={} reason={} stream={}", log::quote(jid_.str()),
              failure.reason == ResumeFailure::Reason::ItemNotFound ? "item-not-found" : "handled-count-too-high",
              stream_id_);
    if (failure.reason == ResumeFailure::Reason::HandledCountTooHigh)
        return handled_count_too_high(failure.h, failure.send_count);
    // The client may bind a resource instead, on this same stream.
    sm_failed(StanzaErrorCondition::ItemNotFound);
    process();
}

std::optional<ResumeFailure> Session::check_takeover(std::uint32_t h) const
{
    if ((state_ != State::Bound && state_ != State::Detached) || !sm_.resumable()) return ResumeFailure{};
    if (sm_.too_high(h))
        return ResumeFailure{ResumeFailure::Reason::HandledCountTooHigh, h, sm_.sent_count()};
    return std::nullopt;
}

void Session::hand_over()
{
    if (state_ == State::Bound) {
        // XEP-0198 §5: the old stream, if the server still has it, ends with a conflict.
        out_ += xmpp::stream_error_xml(StreamErrorCondition::Conflict, "the session was resumed on another connection");
        xml::append_stream_close(out_);
        action_ = Action::Close;
    }
    state_ = State::Detached;
}

ResumeState Session::take_resume_state(std::uint32_t h)
{
    // Valid: check_takeover() accepted h, and the queue can only have grown since.
    sm_.acknowledge(h);
    ResumeState state{jid_, std::exchange(sm_, {}), std::exchange(csi_, {})};
    state_ = State::Closed;
    action_ = Action::Close;
    return state;
}

void Session::sm_failed(StanzaErrorCondition condition)
{
    xml::Writer(out_)
        .open("failed")
        .attr("xmlns", xmpp::ns::sm)
        .open(xmpp::to_string(condition))
        .attr("xmlns", xmpp::ns::stanzas)
        .close_all();
}

void Session::handled_count_too_high(std::uint32_t h, std::uint32_t send_count)
{
    std::string error;
    xml::Writer w(error);
    w.open("stream:error");
    w.open(xmpp::to_string(StreamErrorCondition::UndefinedCondition)).attr("xmlns", xmpp::ns::stream_errors).close();
    w.open("handled-count-too-high")
        .attr("xmlns", xmpp::ns::sm)
        .attr("h", std::to_string(h))
        .attr("send-count", std::to_string(send_count))
        .close();
    w.close();
    close_with(error, StreamErrorCondition::UndefinedCondition, "handled-count-too-high");
}

//---------------------------------------------------------------------------------------------------------
// Ending the stream

void Session::fail(StreamErrorCondition condition, std::string_view text)
{
    if (state_ == State::Closed) return;
    close_with(xmpp::stream_error_xml(condition, text), condition, text);
}

void Session::close_with(std::string_view error_xml, StreamErrorCondition condition, std::string_view text)
{
    if (state_ == State::Detached) {
        // No stream to write to: the session just ends.
        state_ = State::Closed;
        action_ = Action::Close;
        return;
    }
    if (!header_sent_) send_stream_header();
    out_ += error_xml;
    xml::append_stream_close(out_);
    log::info("c2s.stream_error", "condition={} text={} stream={}", xmpp::to_string(condition), log::quote(text),
              stream_id_);
    state_ = State::Closed;
    action_ = Action::Close;
}

void Session::peer_closed()
{
    std::string().swap(out_);
    if (state_ == State::Detached) return;
    if (state_ == State::Bound && sm_.resumable()) {
        state_ = State::Detached;
        action_ = Action::None;
        return;
    }
    state_ = State::Closed;
    action_ = Action::Close;
}

}  // namespace tern::server
