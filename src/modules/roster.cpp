// RFC 6121 §2 roster management. Requests are checked here (§2.3.3); the roster itself is kept by the
// server (AccountServices), which also pushes every change to the account's interested resources.
#include <algorithm>

#include "modules/registrations.hpp"
#include "xmpp/ns.hpp"

namespace tern::modules {

namespace {

using server::IqRequest;
using server::IqResult;
using server::Target;
using xmpp::StanzaError;
using xmpp::StanzaErrorCondition;

// The "server-configured limits" of §2.3.3.
constexpr std::size_t max_name_bytes = 1023;
constexpr std::size_t max_group_bytes = 1023;
constexpr std::size_t max_groups = 64;

tern::unexpected<StanzaError> refuse(StanzaErrorCondition condition, std::string text)
{
    return make_unexpected(StanzaError::of(condition, std::move(text)));
}

// The roster lives in the store: both handlers suspend while it is read or written off the I/O threads.
asio::awaitable<IqResult> handle_get(const IqRequest& request, xml::Writer& reply)
{
    if (!request.from.account) co_return refuse(StanzaErrorCondition::ServiceUnavailable, {});
    std::optional<std::string_view> version;
    if (request.payload.has_attr("ver")) version = request.payload.attr("ver");
    co_return co_await request.from.account->roster_get(request.from, version, reply);
}

// What a roster set asks for, checked (§2.3.3): the item to remove, or the change to make.
struct SetRequest {
    bool remove = false;
    server::RosterChange change;
};

expected<SetRequest, StanzaError> parse_set(const IqRequest& request)
{
    xml::Element item;
    std::size_t items = 0;
    for (const auto child : request.payload.children()) {
        if (child.name() != "item" || child.ns() != xmpp::ns::roster) continue;
        item = child;
        ++items;
    }
    if (items != 1) return refuse(StanzaErrorCondition::BadRequest, "a roster set carries exactly one item");

    const auto jid = xmpp::Jid::parse(item.attr("jid"));
    if (!jid) return refuse(StanzaErrorCondition::BadRequest, "the item needs a valid 'jid'");
    if (!jid->is_bare()) return refuse(StanzaErrorCondition::BadRequest, "roster items are bare JIDs");
    if (*jid == request.from.jid.bare())
        return refuse(StanzaErrorCondition::NotAllowed, "an account is not an item of its own roster");
    // §2.1.2.5: from a client, 'remove' is the only meaningful subscription value; others are ignored.
    if (item.attr("subscription") == "remove") return SetRequest{true, {*jid, {}, {}}};

    server::RosterChange change{*jid, std::string(item.attr("name")), {}};
    if (change.name.size() > max_name_bytes) return refuse(StanzaErrorCondition::NotAcceptable, "the name is too long");
    for (const auto child : item.children()) {
        if (child.name() != "group" || child.ns() != xmpp::ns::roster) continue;
        std::string group = child.text_content();
        if (group.empty()) return refuse(StanzaErrorCondition::NotAcceptable, "a group name is empty");
        if (group.size() > max_group_bytes) return refuse(StanzaErrorCondition::NotAcceptable, "a group name is too long");
        if (std::find(change.groups.begin(), change.groups.end(), group) != change.groups.end())
            return refuse(StanzaErrorCondition::BadRequest, "a group is listed twice");
        if (change.groups.size() == max_groups) return refuse(StanzaErrorCondition::NotAcceptable, "too many groups");
        change.groups.push_back(std::move(group));
    }
    return SetRequest{false, std::move(change)};
}

asio::awaitable<IqResult> handle_set(const IqRequest& request, xml::Writer& /*reply*/)
{
    if (!request.from.account) co_return refuse(StanzaErrorCondition::ServiceUnavailable, {});
    auto set = parse_set(request);
    if (!set) co_return make_unexpected(std::move(set.error()));
    if (set->remove) co_return co_await request.from.account->roster_remove(request.from, set->change.jid);
    co_return co_await request.from.account->roster_set(request.from, set->change);
}

}  // namespace

void register_roster(server::IqDispatcher& dispatcher)
{
    dispatcher.add("get", xmpp::ns::roster, "query", Target::Account, handle_get);
    dispatcher.add("set", xmpp::ns::roster, "query", Target::Account, handle_set);
}

}  // namespace tern::modules
