#include "server/iq_dispatcher.hpp"

#include <algorithm>
#include <exception>

#include "base/log.hpp"

namespace tern::server {

namespace {

using xmpp::StanzaError;
using xmpp::StanzaErrorCondition;

// The reply's addressing: to the requester, from whatever the request was addressed to.
void open_result(xml::Writer& w, const xml::Stanza& iq)
{
    w.open("iq").attr("type", "result").attr("id", iq.attr("id"));
    if (const auto from = iq.attr("from"); !from.empty()) w.attr("to", from);
    if (const auto to = iq.attr("to"); !to.empty()) w.attr("from", to);
}

}  // namespace

void IqDispatcher::add(std::string_view type, std::string_view ns, std::string_view name, Target target,
                       IqHandler handler, Visibility visible)
{
    handlers_[Key{type, ns, name}] = Entry{target, std::move(handler), {}, visible};
    add_feature(ns, target, std::move(visible));
}

void IqDispatcher::add(std::string_view type, std::string_view ns, std::string_view name, Target target,
                       InlineIqHandler handler, Visibility visible)
{
    handlers_[Key{type, ns, name}] = Entry{target, {}, std::move(handler), visible};
    add_feature(ns, target, std::move(visible));
}

void IqDispatcher::add_feature(std::string_view ns, Target target, Visibility visible)
{
    features_.push_back({std::string(ns), target, std::move(visible)});
}

std::vector<std::string> IqDispatcher::features(Target target, const Requester& requester) const
{
    std::vector<std::string> out;
    for (const auto& f : features_) {
        if (!includes(f.target, target)) continue;
        if (f.visible && !f.visible(requester)) continue;
        out.push_back(f.ns);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

const IqDispatcher::Entry* IqDispatcher::find(const xml::Stanza& iq, Target target, std::string& out) const
{
    const std::string_view type = iq.attr("type");
    if (type == "result" || type == "error") return nullptr;
    const auto fail = [&](StanzaErrorCondition condition, std::string text = {}) -> const Entry* {
        xmpp::append_error_reply(out, iq, StanzaError::of(condition, std::move(text)));
        return nullptr;
    };
    // RFC 6120 §8.2.3: an id, a known type, and exactly one child for get/set.
    if (iq.attr("id").empty()) return fail(StanzaErrorCondition::BadRequest, "an IQ needs an id");
    if (type != "get" && type != "set") return fail(StanzaErrorCondition::BadRequest, "unknown IQ type");
    if (iq.root().child_count() != 1) return fail(StanzaErrorCondition::BadRequest, "get and set carry exactly one child");

    const xml::Element payload = iq.root().first_child_element();
    const auto it = handlers_.find(KeyView{type, payload.ns(), payload.name()});
    if (it == handlers_.end() || !includes(it->second.target, target)) return fail(StanzaErrorCondition::ServiceUnavailable);
    return &it->second;
}

namespace {

void failed(const xml::Stanza& iq, const std::exception& e, IqResult& result)
{
    const xml::Element payload = iq.root().first_child_element();
    log::error("iq.handler_failed", "ns={} name={} what={}", payload.ns(), payload.name(), log::quote(e.what()));
    result = make_unexpected(StanzaError::of(StanzaErrorCondition::InternalServerError));
}

// The reply goes to the requester, from whatever the request was addressed to.
Envelope reply_to(const xml::Stanza& iq, std::string_view type, std::string bytes)
{
    return Envelope::make({StanzaKind::Iq, iq.from(), iq.to(), type, iq.id()}, std::move(bytes));
}

// A handler's error replaces everything it wrote.
Envelope settle(const xml::Stanza& iq, const IqResult& result, std::string out)
{
    if (result) return reply_to(iq, "result", std::move(out));
    out.clear();
    xmpp::append_error_reply(out, iq, result.error());
    return reply_to(iq, "error", std::move(out));
}

// What find() refused with: an error reply, or nothing for an IQ result or error.
std::optional<Envelope> refused(const xml::Stanza& iq, std::string out)
{
    if (out.empty()) return std::nullopt;
    return reply_to(iq, "error", std::move(out));
}

}  // namespace

Envelope IqDispatcher::run_inline(const Entry& entry, const IqRequest& request)
{
    std::string out;
    IqResult result;
    try {
        xml::Writer w(out);
        open_result(w, request.stanza);
        result = entry.inline_handler(request, w);
        if (result) w.close_all();
    } catch (const std::exception& e) {
        failed(request.stanza, e, result);
    }
    return settle(request.stanza, result, std::move(out));
}

bool IqDispatcher::answer_inline(const xml::Stanza& iq, const Requester& from, Target target,
                                 std::chrono::system_clock::time_point now, Envelopes& out) const
{
    std::string refusal;
    const Entry* entry = find(iq, target, refusal);
    if (!entry) {
        if (auto error = refused(iq, std::move(refusal))) out.push_back(std::move(*error));
        return true;
    }
    if (!entry->inline_handler) return false;
    out.push_back(run_inline(*entry, IqRequest{iq, iq.root().first_child_element(), from, target, now}));
    return true;
}

IqReply IqDispatcher::dispatch(xml::Stanza iq, Requester from, Target target,
                               std::chrono::system_clock::time_point now) const
{
    std::string out;
    const Entry* entry = find(iq, target, out);
    if (!entry) co_return refused(iq, std::move(out));
    const IqRequest request{iq, iq.root().first_child_element(), from, target, now};
    if (entry->inline_handler) co_return run_inline(*entry, request);
    IqResult result;
    try {
        xml::Writer w(out);
        open_result(w, iq);
        result = co_await entry->handler(request, w);
        if (result) w.close_all();
    } catch (const std::exception& e) {
        failed(iq, e, result);
    }
    co_return settle(iq, result, std::move(out));
}

}  // namespace tern::server
