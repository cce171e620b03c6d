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

void IqDispatcher::add_hooks(SessionHooks hooks)
{
    hooks_.push_back(std::move(hooks));
}

void IqDispatcher::on_reload(const Requester& session, std::string& out) const
{
    for (const auto& h : hooks_)
        if (h.on_reload) h.on_reload(session, out);
}

void IqDispatcher::on_tick(const Requester& session, std::chrono::system_clock::time_point now, std::string& out) const
{
    for (const auto& h : hooks_)
        if (h.on_tick) h.on_tick(session, now, out);
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

// A handler's error replaces everything it wrote.
void settle(const xml::Stanza& iq, const IqResult& result, std::size_t start, std::string& out)
{
    if (result) return;
    out.resize(start);
    xmpp::append_error_reply(out, iq, result.error());
}

}  // namespace

void IqDispatcher::run_inline(const Entry& entry, const IqRequest& request, std::string& out)
{
    const std::size_t start = out.size();
    IqResult result;
    try {
        xml::Writer w(out);
        open_result(w, request.stanza);
        result = entry.inline_handler(request, w);
        if (result) w.close_all();
    } catch (const std::exception& e) {
        failed(request.stanza, e, result);
    }
    settle(request.stanza, result, start, out);
}

bool IqDispatcher::answer_inline(const xml::Stanza& iq, const Requester& from, Target target,
                                 std::chrono::system_clock::time_point now, std::string& out) const
{
    const std::size_t start = out.size();
    const Entry* entry = find(iq, target, out);
    if (!entry) return true;
    if (!entry->inline_handler) {
        out.resize(start);
        return false;
    }
    run_inline(*entry, IqRequest{iq, iq.root().first_child_element(), from, target, now}, out);
    return true;
}

IqReply IqDispatcher::dispatch(xml::Stanza iq, Requester from, Target target,
                               std::chrono::system_clock::time_point now) const
{
    std::string out;
    const Entry* entry = find(iq, target, out);
    if (!entry) co_return out;
    const IqRequest request{iq, iq.root().first_child_element(), from, target, now};
    if (entry->inline_handler) {
        run_inline(*entry, request, out);
        co_return out;
    }
    IqResult result;
    try {
        xml::Writer w(out);
        open_result(w, iq);
        result = co_await entry->handler(request, w);
        if (result) w.close_all();
    } catch (const std::exception& e) {
        failed(iq, e, result);
    }
    settle(iq, result, 0, out);
    co_return out;
}

}  // namespace tern::server
