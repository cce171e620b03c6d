// XEP-0215 External Service Discovery: the STUN/TURN services a client should use, with TURN REST
// credentials. Answers urn:xmpp:extdisco:2 and :1 (<services/>, <credentials/>), :0 (<services/>) and the
// 0.1 namespace (<stun/>), each in the request's namespace. What real clients need shapes the replies:
// - Conversations and Siskin ignore TURN entries without inline username/password and any entry without
//   port and transport, so <services/> carries both (inline credentials can be turned off per service);
// - Monal asks <credentials/> for every service it was given, STUN included, and one error stalls its call
//   setup, so a service without credentials is answered with its entry, not an error;
// - Dino refreshes only credentials that live at least 10 minutes (config enforces the ttl floor).
// A session that asked for <services/> gets pushes: changed services after a reload (only of the types it
// asked for), and fresh credentials shortly before the ones it holds expire.
#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>

#include "modules/registrations.hpp"
#include "modules/turn_rest.hpp"
#include "xmpp/ns.hpp"

namespace tern::modules {

namespace {

using config::ExternalService;
using server::IqRequest;
using server::IqResult;
using server::Requester;
using server::Target;
using xmpp::StanzaError;
using xmpp::StanzaErrorCondition;
using Clock = std::chrono::system_clock;

// Fresh credentials are pushed this long before the held ones expire: one tick (about a minute) and a
// minute's margin for the client to pick them up.
constexpr std::chrono::seconds refresh_lead{120};
// Service types remembered per session (a client asking for ever new types must not grow its session).
constexpr std::size_t max_remembered_types = 16;

std::atomic<std::uint64_t> next_push_id{1};

using SessionServices = ExtdiscoSession;

struct Credentials {
    std::string username;
    std::string password;
    std::optional<Clock::time_point> expires;  // TURN REST credentials only
};

std::string lower(std::string_view s)
{
    std::string out{s};
    for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return out;
}

bool same_service(const ExternalService& a, const ExternalService& b)
{
    return a.type == b.type && a.host == b.host && a.port == b.port && a.transport == b.transport;
}

// The configuration as the handlers use it; shared by the handlers and hooks of one dispatcher.
class Services {
public:
    Services(const config::Config& config, const config::Config* previous, ExtdiscoClock clock)
        : services_(config.services), clock_(std::move(clock))
    {
        if (previous) previous_ = previous->services;
        for (const auto& s : services_) ports_.push_back(std::to_string(s.port));
    }

    bool any_allowed(const xmpp::Jid& jid) const
    {
        return std::any_of(services_.begin(), services_.end(), [&](const auto& s) { return allowed(s, jid); });
    }

    IqResult handle_services(std::string_view ns, const IqRequest& request, xml::Writer& reply) const;
    IqResult handle_credentials(std::string_view ns, const IqRequest& request, xml::Writer& reply) const;
    IqResult handle_stun(const IqRequest& request, xml::Writer& reply) const;
    void push_changes(const Requester& session, server::Envelopes& out) const;
    void push_refresh(const Requester& session, Clock::time_point now, server::Envelopes& out) const;

private:
    static bool allowed(const ExternalService& s, const xmpp::Jid& jid);
    static std::optional<Credentials> credentials(const ExternalService& s, const xmpp::Jid& jid,
                                                  Clock::time_point now);
    static std::string_view name_for(const ExternalService& s, std::string_view lang);
    void write_service(xml::Writer& w, std::size_t index, std::string_view lang, const Credentials* credentials,
                       std::string_view action = {}) const;
    static void write_removal(xml::Writer& w, const ExternalService& s);
    static bool interested(const SessionServices& e, const ExternalService& s, const xmpp::Jid& jid);
    static void write_push(const Requester& session, const SessionServices& e, std::string_view items,
                           server::Envelopes& out);

    std::vector<ExternalService> services_;
    std::vector<ExternalService> previous_;  // before the reload this dispatcher was built for
    std::vector<std::string> ports_;         // services_[i].port as text
    ExtdiscoClock clock_;
};

bool Services::allowed(const ExternalService& s, const xmpp::Jid& jid)
{
    if (s.allow.empty()) return true;
    const std::string bare = jid.bare_str();
    return std::any_of(s.allow.begin(), s.allow.end(), [&](const std::string& entry) {
        return entry.find('@') == std::string::npos ? entry == jid.domain() : entry == bare;
    });
}

std::optional<Credentials> Services::credentials(const ExternalService& s, const xmpp::Jid& jid, Clock::time_point now)
{
    if (!s.secrets.empty()) {
        const std::string bare = jid.bare_str();
        const std::string& secret = s.secrets.front();
        const std::string id = s.pseudonymous ? turn_pseudonym(secret, bare) : bare;
        auto c = turn_rest_credentials(secret, id, now, s.ttl, s.separator);
        return Credentials{std::move(c.username), std::move(c.password), c.expires};
    }
    if (!s.username.empty()) return Credentials{s.username, s.password, std::nullopt};
    return std::nullopt;
}

// XEP-0215 §6: the name in the request's language: the exact tag, then ever shorter prefixes (de-CH, de).
std::string_view Services::name_for(const ExternalService& s, std::string_view lang)
{
    if (!s.names.empty() && !lang.empty()) {
        std::string tag = lower(lang);
        for (;;) {
            if (const auto it = s.names.find(tag); it != s.names.end()) return it->second;
            const auto cut = tag.rfind('-');
            if (cut == std::string::npos) break;
            tag.resize(cut);
        }
    }
    return s.name;
}

// Attributes in alphabetical order, as in the XEP's examples.
void Services::write_service(xml::Writer& w, std::size_t index, std::string_view lang, const Credentials* credentials,
                             std::string_view action) const
{
    const ExternalService& s = services_[index];
    w.open("service");
    if (!action.empty()) w.attr("action", action);
    if (credentials && credentials->expires) w.attr("expires", xep0082_datetime(*credentials->expires));
    w.attr("host", s.host);
    if (const auto name = name_for(s, lang); !name.empty()) w.attr("name", name);
    if (credentials) w.attr("password", credentials->password);
    w.attr("port", ports_[index]);
    if (s.restricted) w.attr("restricted", "1");
    w.attr("transport", config::to_string(s.transport));
    w.attr("type", s.type);
    if (credentials) w.attr("username", credentials->username);
    if (!s.extended.empty()) {
        // XEP-0215 §4: extended information as a data form of type result.
        w.open("x").attr("xmlns", xmpp::ns::data_forms).attr("type", "result");
        for (const auto& field : s.extended) {
            w.open("field").attr("var", field.var);
            if (field.var == "FORM_TYPE") w.attr("type", "hidden");
            for (const auto& value : field.values) w.leaf("value", value);
            w.close();
        }
        w.close();
    }
    w.close();
}

void Services::write_removal(xml::Writer& w, const ExternalService& s)
{
    w.open("service")
        .attr("action", "remove")
        .attr("host", s.host)
        .attr("port", std::to_string(s.port))
        .attr("transport", config::to_string(s.transport))
        .attr("type", s.type)
        .close();
}

bool Services::interested(const SessionServices& e, const ExternalService& s, const xmpp::Jid& jid)
{
    const bool asked = e.requested_all || std::find(e.types.begin(), e.types.end(), s.type) != e.types.end();
    return asked && allowed(s, jid);
}

IqResult Services::handle_services(std::string_view ns, const IqRequest& request, xml::Writer& reply) const
{
    const xmpp::Jid& jid = request.from.jid;
    if (!any_allowed(jid)) return make_unexpected(StanzaError::of(StanzaErrorCondition::Forbidden));
    const std::string_view type = request.payload.attr("type");
    const std::string_view lang = request.payload.lang();

    reply.open("services").attr("xmlns", ns);
    if (!type.empty()) reply.attr("type", type);
    std::optional<Clock::time_point> earliest;
    for (std::size_t i = 0; i < services_.size(); ++i) {
        const ExternalService& s = services_[i];
        if ((!type.empty() && s.type != type) || !allowed(s, jid)) continue;
        std::optional<Credentials> c;
        if (s.inline_credentials) c = credentials(s, jid, request.now);
        if (c && c->expires && (!earliest || *c->expires < *earliest)) earliest = c->expires;
        write_service(reply, i, lang, c ? &*c : nullptr);
    }
    reply.close();

    if (auto* state = request.from.state) {
        auto& e = state->modules.get<SessionServices>();
        e.ns = ns;
        if (type.empty()) {
            e.requested_all = true;
            // This answer renewed everything the session holds.
            e.refresh_at = earliest ? *earliest - refresh_lead : Clock::time_point{};
        } else {
            const bool known = std::find(e.types.begin(), e.types.end(), type) != e.types.end();
            if (!known && e.types.size() < max_remembered_types) e.types.emplace_back(type);
            if (earliest && (e.refresh_at == Clock::time_point{} || *earliest - refresh_lead < e.refresh_at))
                e.refresh_at = *earliest - refresh_lead;
        }
    }
    return {};
}

IqResult Services::handle_credentials(std::string_view ns, const IqRequest& request, xml::Writer& reply) const
{
    const xmpp::Jid& jid = request.from.jid;
    struct Wanted {
        std::string_view host;
        std::string_view type;
        std::string_view port;  // empty: any
    };
    std::vector<Wanted> wanted;
    for (const xml::Element child : request.payload.children()) {
        if (child.name() != "service" || child.ns() != ns) continue;
        Wanted w{child.attr("host"), child.attr("type"), child.attr("port")};
        if (w.host.empty() || w.type.empty())
            return make_unexpected(StanzaError::of(StanzaErrorCondition::BadRequest, "a service needs host and type"));
        wanted.push_back(w);
    }
    if (wanted.empty())
        return make_unexpected(StanzaError::of(StanzaErrorCondition::BadRequest, "name a service by host and type"));

    const std::string_view lang = request.payload.lang();
    bool matched = false;
    bool permitted = false;
    reply.open("credentials").attr("xmlns", ns);
    for (std::size_t i = 0; i < services_.size(); ++i) {
        const ExternalService& s = services_[i];
        const bool match = std::any_of(wanted.begin(), wanted.end(), [&](const Wanted& w) {
            return w.host == s.host && w.type == s.type && (w.port.empty() || w.port == ports_[i]);
        });
        if (!match) continue;
        matched = true;
        if (!allowed(s, jid)) continue;
        permitted = true;
        const auto c = credentials(s, jid, request.now);
        write_service(reply, i, lang, c ? &*c : nullptr);
    }
    reply.close();
    if (!matched) return make_unexpected(StanzaError::of(StanzaErrorCondition::ItemNotFound));
    if (!permitted) return make_unexpected(StanzaError::of(StanzaErrorCondition::Forbidden));
    return {};
}

// XEP-0215 0.1 ("STUN Server Discovery for Jingle"): <stun/> lists the STUN servers as <server/> elements.
IqResult Services::handle_stun(const IqRequest& request, xml::Writer& reply) const
{
    const xmpp::Jid& jid = request.from.jid;
    if (!any_allowed(jid)) return make_unexpected(StanzaError::of(StanzaErrorCondition::Forbidden));
    reply.open("stun").attr("xmlns", xmpp::ns::extdisco_v01);
    for (std::size_t i = 0; i < services_.size(); ++i) {
        const ExternalService& s = services_[i];
        if (s.type != "stun" || !allowed(s, jid)) continue;
        const auto c = credentials(s, jid, request.now);
        reply.open("server").attr("host", s.host);
        if (c) reply.attr("password", c->password);
        reply.attr("port", ports_[i]).attr("transport", config::to_string(s.transport));
        if (c) reply.attr("username", c->username);
        reply.close();
    }
    reply.close();
    return {};
}

void Services::write_push(const Requester& session, const SessionServices& e, std::string_view items,
                          server::Envelopes& out)
{
    std::string id = "extdisco-" + std::to_string(next_push_id.fetch_add(1, std::memory_order_relaxed));
    std::string bytes;
    xml::Writer w(bytes);
    w.open("iq").attr("type", "set").attr("id", id).attr("from", session.jid.domain()).attr("to", session.jid.str());
    w.open("services").attr("xmlns", e.ns.empty() ? xmpp::ns::extdisco_2 : e.ns);
    if (!e.requested_all && e.types.size() == 1) w.attr("type", e.types.front());
    w.raw(items);
    w.close_all();
    out.push_back(server::Envelope::make(
        {server::StanzaKind::Iq, session.jid.str(), session.jid.domain(), "set", id},
        std::move(bytes)));
}

// After a reload: what changed among the services this session asked for (and may use).
void Services::push_changes(const Requester& session, server::Envelopes& out) const
{
    auto* state = session.state ? session.state->modules.find<SessionServices>() : nullptr;
    if (!state) return;
    auto& e = *state;
    if (!e.requested_all && e.types.empty()) return;
    const xmpp::Jid& jid = session.jid;
    const Clock::time_point now = clock_();

    std::string items;
    xml::Writer w(items);
    for (std::size_t i = 0; i < services_.size(); ++i) {
        const ExternalService& s = services_[i];
        if (!interested(e, s, jid)) continue;
        const auto old = std::find_if(previous_.begin(), previous_.end(), [&](const ExternalService& p) {
            return same_service(p, s) && interested(e, p, jid);
        });
        if (old != previous_.end() && *old == s) continue;
        std::optional<Credentials> c;
        if (s.inline_credentials) c = credentials(s, jid, now);
        if (c && c->expires && (e.refresh_at == Clock::time_point{} || *c->expires - refresh_lead < e.refresh_at))
            e.refresh_at = *c->expires - refresh_lead;
        write_service(w, i, {}, c ? &*c : nullptr, old == previous_.end() ? "add" : "modify");
    }
    for (const auto& p : previous_) {
        if (!interested(e, p, jid)) continue;
        const bool kept = std::any_of(services_.begin(), services_.end(), [&](const ExternalService& s) {
            return same_service(p, s) && interested(e, s, jid);
        });
        if (!kept) write_removal(w, p);
    }
    if (!items.empty()) write_push(session, e, items, out);
}

// Shortly before the session's credentials expire: new ones for every service it holds them for.
void Services::push_refresh(const Requester& session, Clock::time_point now, server::Envelopes& out) const
{
    auto* state = session.state ? session.state->modules.find<SessionServices>() : nullptr;
    if (!state) return;
    auto& e = *state;
    if (e.refresh_at == Clock::time_point{} || now < e.refresh_at) return;

    std::string items;
    xml::Writer w(items);
    std::optional<Clock::time_point> earliest;
    for (std::size_t i = 0; i < services_.size(); ++i) {
        const ExternalService& s = services_[i];
        if (s.secrets.empty() || !s.inline_credentials || !interested(e, s, session.jid)) continue;
        const auto c = credentials(s, session.jid, now);
        if (!earliest || *c->expires < *earliest) earliest = c->expires;
        write_service(w, i, {}, &*c, "modify");
    }
    e.refresh_at = earliest ? *earliest - refresh_lead : Clock::time_point{};
    if (!items.empty()) write_push(session, e, items, out);
}

}  // namespace

void register_extdisco(server::IqDispatcher& dispatcher, server::Hooks& hooks, const config::Config& config,
                       const config::Config* previous, ExtdiscoClock clock)
{
    const bool had_services = previous && !previous->services.empty();
    if (config.services.empty() && !had_services) return;
    auto services = std::make_shared<const Services>(config, previous, std::move(clock));

    if (!config.services.empty()) {
        const server::Visibility visible = [services](const Requester& r) { return services->any_allowed(r.jid); };
        for (const std::string_view ns : {xmpp::ns::extdisco_2, xmpp::ns::extdisco_1, xmpp::ns::extdisco_0}) {
            dispatcher.add("get", ns, "services", Target::Server,
                           server::inline_handler([services, ns](const IqRequest& request, xml::Writer& reply) {
                               return services->handle_services(ns, request, reply);
                           }),
                           visible);
        }
        // <credentials/> came with version 0.5 of the XEP (namespace :1).
        for (const std::string_view ns : {xmpp::ns::extdisco_2, xmpp::ns::extdisco_1}) {
            dispatcher.add("get", ns, "credentials", Target::Server,
                           server::inline_handler([services, ns](const IqRequest& request, xml::Writer& reply) {
                               return services->handle_credentials(ns, request, reply);
                           }),
                           visible);
        }
        dispatcher.add("get", xmpp::ns::extdisco_v01, "stun", Target::Server,
                       server::inline_handler([services](const IqRequest& request, xml::Writer& reply) {
                           return services->handle_stun(request, reply);
                       }),
                       visible);
    }
    // Also when the new configuration has no services left: sessions learn of the removals.
    hooks.add(server::SessionHooks{
        .on_reload = [services](const Requester& session, server::Envelopes& out) { services->push_changes(session, out); },
        .on_tick = [services](const Requester& session, Clock::time_point now,
                              server::Envelopes& out) { services->push_refresh(session, now, out); },
    });
}

}  // namespace tern::modules
