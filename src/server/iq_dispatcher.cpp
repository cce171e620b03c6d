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
    handlers_[Key{type, ns, name}] = Entry{target, std::move(handler), visible};
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

void IqDispatcher::dispatch(const xml::Stanza& iq, const Requester& from, Target target,
                            std::chrono::system_clock::time_point now, Envelopes& out) const
{
    std::string reply;
    const std::string_view type = answer(iq, from, target, now, reply);
    if (reply.empty()) return;
    // The reply goes to the requester, from whatever the request was addressed to.
    out.push_back(Envelope::make({StanzaKind::Iq, iq.from(), iq.to(), type, iq.id()}, std::move(reply)));
}

std::string_view IqDispatcher::answer(const xml::Stanza& iq, const Requester& from, Target target,
                                      std::chrono::system_clock::time_point now, std::string& out) const
{
    const std::string_view type = iq.attr("type");
    if (type == "result" || type == "error") return {};
    const auto fail = [&](StanzaErrorCondition condition, std::string text = {}) {
        xmpp::append_error_reply(out, iq, StanzaError::of(condition, std::move(text)));
        return std::string_view("error");
    };
    // RFC 6120 §8.2.3: an id, a known type, and exactly one child for get/set.
    if (iq.attr("id").empty()) return fail(StanzaErrorCondition::BadRequest, "an IQ needs an id");
    if (type != "get" && type != "set") return fail(StanzaErrorCondition::BadRequest, "unknown IQ type");
    if (iq.root().child_count() != 1) return fail(StanzaErrorCondition::BadRequest, "get and set carry exactly one child");

    const xml::Element payload = iq.root().first_child_element();
    const auto it = handlers_.find(KeyView{type, payload.ns(), payload.name()});
    if (it == handlers_.end() || !includes(it->second.target, target))
        return fail(StanzaErrorCondition::ServiceUnavailable);

    const std::size_t start = out.size();
    IqResult result;
    try {
        xml::Writer w(out);
        open_result(w, iq);
        result = it->second.handler(IqRequest{iq, payload, from, target, now}, w);
        if (result) w.close_all();
    } catch (const std::exception& e) {
        log::error("iq.handler_failed", "ns={} name={} what={}", payload.ns(), payload.name(), log::quote(e.what()));
        result = make_unexpected(StanzaError::of(StanzaErrorCondition::InternalServerError));
    }
    if (result) return "result";
    out.resize(start);
    xmpp::append_error_reply(out, iq, result.error());
    return "error";
}

}  // namespace tern::server
