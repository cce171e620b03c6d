#include "server/hooks.hpp"

namespace tern::server {

HookResult Hooks::pre_route(const xml::Stanza& stanza, const StanzaContext& context) const
{
    for (const auto& h : stanza_)
        if (h.pre_route && h.pre_route(stanza, context) == HookResult::Taken) return HookResult::Taken;
    return HookResult::Continue;
}

void Hooks::on_deliver(const Delivery& delivery, const StanzaContext& context) const
{
    for (const auto& h : stanza_)
        if (h.on_deliver) h.on_deliver(delivery, context);
}

HookResult Hooks::undeliverable(const Envelope& stanza, const StanzaContext& context) const
{
    for (const auto& h : stanza_)
        if (h.undeliverable && h.undeliverable(stanza, context) == HookResult::Taken) return HookResult::Taken;
    return HookResult::Continue;
}

void Hooks::archive(const Envelope& stanza, const StanzaContext& context) const
{
    for (const auto& h : stanza_)
        if (h.archive) h.archive(stanza, context);
}

void Hooks::on_reload(const Requester& session, Envelopes& out) const
{
    for (const auto& h : session_)
        if (h.on_reload) h.on_reload(session, out);
}

void Hooks::on_tick(const Requester& session, std::chrono::system_clock::time_point now, Envelopes& out) const
{
    for (const auto& h : session_)
        if (h.on_tick) h.on_tick(session, now, out);
}

}  // namespace tern::server
