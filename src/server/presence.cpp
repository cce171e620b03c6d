#include "server/presence.hpp"

#include <algorithm>
#include <charconv>

#include "base/log.hpp"
#include "store/accounts.hpp"
#include "xml/writer.hpp"
#include "xmpp/ns.hpp"

namespace tern::server {

namespace {

using store::Subscription;
using store::SubscriptionState;
using xmpp::StanzaError;
using xmpp::StanzaErrorCondition;

// One connection per thread and database file, opened on first use (and again after a failure).
template <class Store>
Store* thread_store(const std::string& path)
{
    thread_local std::optional<Store> store;
    thread_local std::string opened;
    if (!store || opened != path) {
        auto result = Store::open(path);
        if (!result) {
            log::error("store.open_failed", "path={} error={}", log::quote(path), log::quote(result.error().message));
            store.reset();
            return nullptr;
        }
        store = std::move(*result);
        opened = path;
    }
    return &*store;
}

bool sees_contact(Subscription s)  // the owner receives the contact's presence
{
    return s == Subscription::To || s == Subscription::Both;
}

bool seen_by_contact(Subscription s)  // the contact receives the owner's presence
{
    return s == Subscription::From || s == Subscription::Both;
}

std::string full_jid(const std::string& bare, const std::string& resource)
{
    return bare + '/' + resource;
}

// The stanza with a 'to' attribute added after its name: presence is kept and broadcast without one,
// and addressed to each recipient as it goes out.
std::string addressed(std::string_view stanza, std::string_view to)
{
    const std::size_t name_end = stanza.find_first_of(" />", 1);
    std::string out;
    out.reserve(stanza.size() + to.size() + 6);
    out.append(stanza.substr(0, name_end));
    out.append(" to='");
    xml::append_escaped_attr(out, to);
    out += '\'';
    out.append(stanza.substr(name_end));
    return out;
}

std::string presence_stanza(std::string_view from, std::string_view to, std::string_view type)
{
    std::string out;
    xml::Writer(out).open("presence").attr("from", from).attr("to", to).attr("type", type).close();
    return out;
}

std::string unavailable_from(std::string_view from)
{
    std::string out;
    xml::Writer(out).open("presence").attr("from", from).attr("type", "unavailable").close();
    return out;
}

// RFC 6121 §4.7.2.3: an integer from -128 to 127, 0 when absent; an invalid one is read as 0.
int priority_of(const xml::Stanza& presence)
{
    const std::string_view text = presence.root().child("priority", xmpp::ns::client).text();
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < -128 || value > 127) return 0;
    return value;
}

void write_item(xml::Writer& w, const store::RosterItem& item)
{
    w.open("item").attr("jid", item.jid);
    if (!item.name.empty()) w.attr("name", item.name);
    w.attr("subscription", store::to_string(item.state.subscription));
    if (item.state.pending_out) w.attr("ask", "subscribe");
    for (const auto& group : item.groups) w.leaf("group", group);
    w.close();
}

StanzaError internal_error()
{
    return StanzaError::of(StanzaErrorCondition::InternalServerError);
}

}  // namespace

Presence::Presence(SessionRegistry& registry, const std::filesystem::path& data_dir)
    : registry_(registry),
      roster_path_((data_dir / store::roster_file_name).string()),
      accounts_path_((data_dir / store::accounts_file_name).string())
{
}

store::RosterStore* Presence::roster_store()
{
    return thread_store<store::RosterStore>(roster_path_);
}

std::optional<store::Roster> Presence::read_roster(const std::string& owner)
{
    store::RosterStore* store = roster_store();
    if (!store) return std::nullopt;
    auto roster = store->roster(owner);
    if (!roster) {
        log::error("roster.read_failed", "jid={} error={}", log::quote(owner), log::quote(roster.error().message));
        return std::nullopt;
    }
    return std::move(*roster);
}

bool Presence::account_exists(const std::string& bare)
{
    const auto at = bare.find('@');
    if (at == std::string::npos) return false;
    store::AccountStore* accounts = thread_store<store::AccountStore>(accounts_path_);
    if (!accounts) return false;
    auto found = accounts->exists(std::string_view(bare).substr(at + 1), std::string_view(bare).substr(0, at));
    if (!found) {
        log::error("store.read_failed", "error={}", log::quote(found.error().message));
        return false;
    }
    return *found;
}

//---------------------------------------------------------------------------------------------------------
// Presence stanzas from a session

void Presence::handle(xml::Stanza&& stanza, const std::optional<xmpp::Jid>& to, const Requester& sender,
                      std::string& reply)
{
    const std::string_view type = stanza.type();
    if (const auto kind = subscription_kind(type)) {
        // §3: subscription stanzas go to a contact's bare JID; without one there is nobody to ask.
        if (to) subscription(*kind, std::move(stanza), to->bare(), sender, reply);
        return;
    }
    if (type == "probe") {
        if (to) probe(to->bare(), sender, reply);
        return;
    }
    if (type == "error") {
        // An error about a presence someone sent: to that full JID if it is connected, else nowhere.
        if (!to || to->is_bare()) return;
        for (const auto& r : registry_.resources(to->bare_str()))
            if (r.resource == to->resource()) r.client->deliver(stanza.serialize());
        return;
    }
    if (!type.empty() && type != "unavailable") {
        xmpp::append_error_reply(reply, stanza, StanzaError::of(StanzaErrorCondition::BadRequest, "unknown presence type"));
        return;
    }
    if (to) return directed(std::move(stanza), *to, sender, reply);
    stanza.remove_attr("to");
    if (type.empty())
        available(std::move(stanza), sender, reply);
    else
        unavailable(std::move(stanza), sender);
}

void Presence::available(xml::Stanza&& stanza, const Requester& sender, std::string& reply)
{
    const int priority = priority_of(stanza);
    const auto serialized = std::make_shared<const std::string>(stanza.serialize());
    bool was_available = false;
    const bool ours = registry_.update(sender.jid, sender.client, [&](SessionRegistry::Resource& r) {
        was_available = r.available;
        r.available = true;
        r.priority = priority;
        r.presence = serialized;
    });
    if (!ours) return;  // replaced by a newer session meanwhile
    if (sender.state) sender.state->presence.available = true;

    const std::string own = sender.jid.bare_str();
    const auto roster = read_roster(own).value_or(store::Roster{});
    broadcast(sender, *serialized, roster, &reply);
    if (was_available) return;

    // §4.2: initial presence. The new resource learns what its contacts' servers would answer to probes
    // (the last presence of each available resource), its own other resources' presence, and the
    // subscription requests still waiting for an answer.
    const std::string self = sender.jid.str();
    for (const auto& item : roster.items) {
        if (!sees_contact(item.state.subscription)) continue;
        for (const auto& r : registry_.resources(item.jid))
            if (r.available && r.presence) reply += addressed(*r.presence, self);
    }
    for (const auto& r : registry_.resources(own))
        if (r.available && r.presence && r.client.get() != sender.client) reply += addressed(*r.presence, self);
    for (const auto& item : roster.items) {
        if (!item.state.pending_in) continue;
        reply += item.request.empty() ? presence_stanza(item.jid, own, "subscribe") : item.request;
    }
}

void Presence::unavailable(xml::Stanza&& stanza, const Requester& sender)
{
    bool was_available = false;
    registry_.update(sender.jid, sender.client, [&](SessionRegistry::Resource& r) {
        was_available = r.available;
        r.available = false;
        r.priority = 0;
        r.presence.reset();
    });
    if (sender.state) sender.state->presence.available = false;
    const std::string serialized = stanza.serialize();
    if (was_available) {
        const auto roster = read_roster(sender.jid.bare_str()).value_or(store::Roster{});
        broadcast(sender, serialized, roster, nullptr);
    }
    to_directed_recipients(sender, serialized);
}

void Presence::session_ended(const Requester& session)
{
    if (!session.state) return;
    auto& state = session.state->presence;
    if (!state.available && state.directed.empty()) return;
    const std::string unavailable = unavailable_from(session.jid.str());
    if (std::exchange(state.available, false)) {
        // A newer session bound to the same full JID that is already available speaks for it now.
        const std::string own = session.jid.bare_str();
        const auto resources = registry_.resources(own);
        const bool taken_over = std::any_of(resources.begin(), resources.end(), [&](const auto& r) {
            return r.resource == session.jid.resource() && r.available;
        });
        if (!taken_over) broadcast(session, unavailable, read_roster(own).value_or(store::Roster{}), nullptr);
    }
    to_directed_recipients(session, unavailable);
}

void Presence::broadcast(const Requester& sender, std::string_view stanza, const store::Roster& roster, std::string* self)
{
    for (const auto& item : roster.items) {
        if (!seen_by_contact(item.state.subscription)) continue;
        for (const auto& r : registry_.resources(item.jid))
            if (r.available) r.client->deliver(addressed(stanza, full_jid(item.jid, r.resource)));
    }
    const std::string own = sender.jid.bare_str();
    for (const auto& r : registry_.resources(own)) {
        if (!r.available) continue;
        if (r.client.get() != sender.client)
            r.client->deliver(addressed(stanza, full_jid(own, r.resource)));
        else if (self)
            *self += addressed(stanza, sender.jid.str());
    }
}

void Presence::to_directed_recipients(const Requester& sender, std::string_view unavailable)
{
    if (!sender.state) return;
    for (const auto& recipient : std::exchange(sender.state->presence.directed, {})) {
        const auto jid = xmpp::Jid::parse(recipient);
        if (!jid) continue;
        for (const auto& r : registry_.resources(jid->bare_str())) {
            if (jid->is_bare() ? r.available : r.resource == jid->resource())
                r.client->deliver(addressed(unavailable, full_jid(jid->bare_str(), r.resource)));
        }
    }
}

void Presence::directed(xml::Stanza&& stanza, const xmpp::Jid& to, const Requester& sender, std::string& reply)
{
    // §4.6: to a full JID if that resource is connected, to a bare JID's available resources.
    const std::string bare = to.bare_str();
    const std::string serialized = stanza.serialize();
    bool delivered = false;
    for (const auto& r : registry_.resources(bare)) {
        if (to.is_bare() ? !r.available : r.resource != to.resource()) continue;
        delivered = true;
        if (r.client.get() == sender.client)
            reply += serialized;
        else
            r.client->deliver(serialized);
    }
    if (!sender.state || bare == sender.jid.bare_str()) return;

    // §4.6.3: who got available presence outside the subscription is owed an unavailable one later.
    store::RosterStore* store = roster_store();
    if (!store) return;
    const auto item = store->item(sender.jid.bare_str(), bare);
    if (item && *item && seen_by_contact((*item)->state.subscription)) return;
    auto& recipients = sender.state->presence.directed;
    const std::string key = to.str();
    const auto known = std::find(recipients.begin(), recipients.end(), key);
    if (stanza.type().empty()) {
        if (delivered && known == recipients.end()) recipients.push_back(key);
    } else if (known != recipients.end()) {
        recipients.erase(known);
    }
}

void Presence::probe(const xmpp::Jid& contact, const Requester& sender, std::string& reply)
{
    // §4.3: answered only for a contact the sender is subscribed to.
    const std::string bare = contact.bare_str();
    store::RosterStore* store = roster_store();
    if (!store) return;
    const auto item = store->item(sender.jid.bare_str(), bare);
    if (!item || !*item || !sees_contact((*item)->state.subscription)) return;
    const std::string self = sender.jid.str();
    bool any = false;
    for (const auto& r : registry_.resources(bare)) {
        if (!r.available || !r.presence) continue;
        reply += addressed(*r.presence, self);
        any = true;
    }
    if (!any) reply += presence_stanza(bare, self, "unavailable");
}

//---------------------------------------------------------------------------------------------------------
// Subscriptions (§3)

void Presence::subscription(SubscriptionKind kind, xml::Stanza&& stanza, const xmpp::Jid& contact_jid,
                            const Requester& sender, std::string& reply)
{
    const std::string user = sender.jid.bare_str();
    const std::string contact = contact_jid.bare_str();
    if (contact == user) return;  // an account is always subscribed to itself
    // §3.1.2: a subscription stanza travels between bare JIDs.
    stanza.set_attr("from", user);
    stanza.set_attr("to", contact);
    const std::string serialized = stanza.serialize();

    const auto roster_full = [&] {
        xmpp::append_error_reply(reply, stanza, StanzaError::of(StanzaErrorCondition::ResourceConstraint, "the roster is full"));
    };
    const auto out = apply(user, contact, Direction::Outbound, kind, serialized);
    if (out && out->refused) return roster_full();
    if (!out || !out->transition.route) return;
    if (!account_exists(contact)) {
        // §3.1.3: no such contact; its server answers a request with 'unsubscribed'.
        if (kind == SubscriptionKind::Subscribe)
            inbound(SubscriptionKind::Unsubscribed, user, contact, presence_stanza(contact, user, "unsubscribed"));
        return;
    }
    const auto in = inbound(kind, contact, user, serialized);
    if (in && in->refused) return roster_full();
    if (!in || !in->transition.route) return;
    switch (kind) {
    case SubscriptionKind::Subscribed:
        // §3.1.5: the new subscriber gets the user's current presence.
        send_presence(user, contact, false);
        break;
    case SubscriptionKind::Unsubscribed:
        // §3.2.2: the former subscriber learns that the user is gone from its view.
        send_presence(user, contact, true);
        break;
    case SubscriptionKind::Unsubscribe:
        // §3.3.3: the contact's server withdraws the contact's presence from the user.
        send_presence(contact, user, true);
        break;
    case SubscriptionKind::Subscribe:
        break;
    }
}

std::optional<Presence::Applied> Presence::apply(const std::string& owner, const std::string& contact,
                                                 Direction direction, SubscriptionKind kind, std::string_view stanza)
{
    store::RosterStore* store = roster_store();
    if (!store) return std::nullopt;
    const auto totals = store->totals(owner);
    if (!totals) {
        log::error("roster.read_failed", "jid={} error={}", log::quote(owner), log::quote(totals.error().message));
        return std::nullopt;
    }
    SubscriptionTransition t;
    bool refused = false;
    auto update = store->update(owner, contact, [&](std::optional<store::RosterItem>& item) {
        t = transition(item ? item->state : SubscriptionState{}, direction, kind);
        if (!item) {
            if (t.next == SubscriptionState{}) return;  // nothing to remember
            if (!roster_limits.may_add(totals->items)) {
                refused = true;
                t = SubscriptionTransition{};
                return;
            }
            item.emplace();
            item->listed = false;
        }
        item->state = t.next;
        // §3.1.2 and §3.1.5: asking for or approving a subscription puts the contact in the roster; a request
        // from someone not in it is kept aside, unlisted, until answered (§3.1.3).
        if (direction == Direction::Outbound && t.route &&
            (kind == SubscriptionKind::Subscribe || kind == SubscriptionKind::Subscribed))
            item->listed = true;
        if (direction == Direction::Inbound && kind == SubscriptionKind::Subscribe && t.route) {
            // Kept for replay within a few KiB, and within the account's total for all of them.
            const std::size_t others = totals->request_bytes - std::min(totals->request_bytes, item->request.size());
            item->request = stored_request(stanza, roster_limits.request_room(others));
        }
        if (!item->state.pending_in) item->request.clear();
        if (!item->listed && item->state == SubscriptionState{}) item.reset();
    });
    if (!update) {
        log::error("roster.write_failed", "jid={} contact={} error={}", log::quote(owner), log::quote(contact),
                   log::quote(update.error().message));
        return std::nullopt;
    }
    if (update->visible()) push(owner, *update);
    return Applied{t, std::move(*update), refused};
}

std::optional<Presence::Applied> Presence::inbound(SubscriptionKind kind, const std::string& owner,
                                                   const std::string& from, std::string_view stanza)
{
    auto applied = apply(owner, from, Direction::Inbound, kind, stanza);
    if (!applied) return std::nullopt;
    const SubscriptionTransition& t = applied->transition;
    if (t.route) {
        // A subscribe nobody is available for waits in the item for the owner's next initial presence.
        for (const auto& r : registry_.resources(owner))
            if (r.available) r.client->deliver(std::string(stanza));
    }
    if (t.auto_reply) {
        const auto back = inbound(SubscriptionKind::Subscribed, from, owner, presence_stanza(owner, from, "subscribed"));
        if (back && back->transition.route) send_presence(owner, from, false);
    }
    return applied;
}

void Presence::send_presence(const std::string& from, const std::string& to, bool unavailable)
{
    const auto recipients = registry_.resources(to);
    if (recipients.empty()) return;
    for (const auto& sender : registry_.resources(from)) {
        if (!sender.available || !sender.presence) continue;
        const std::string stanza = unavailable ? unavailable_from(full_jid(from, sender.resource)) : *sender.presence;
        for (const auto& r : recipients)
            if (r.available) r.client->deliver(addressed(stanza, full_jid(to, r.resource)));
    }
}

void Presence::push(const std::string& owner, const store::ItemUpdate& update)
{
    std::string item;
    xml::Writer w(item);
    if (update.after && update.after->listed)
        write_item(w, *update.after);
    else
        w.open("item").attr("jid", update.before->jid).attr("subscription", "remove").close();
    const std::string version = std::to_string(update.version);
    for (const auto& r : registry_.resources(owner)) {
        if (!r.interested) continue;
        std::string iq;
        xml::Writer(iq)
            .open("iq")
            .attr("type", "set")
            .attr("id", "push" + std::to_string(next_push_.fetch_add(1, std::memory_order_relaxed)))
            .attr("to", full_jid(owner, r.resource))
            .open("query")
            .attr("xmlns", xmpp::ns::roster)
            .attr("ver", version)
            .raw(item)
            .close_all();
        r.client->deliver(std::move(iq));
    }
}

//---------------------------------------------------------------------------------------------------------
// The roster module's requests (§2)

IqResult Presence::roster_get(const Requester& session, std::optional<std::string_view> known_version, xml::Writer& reply)
{
    registry_.update(session.jid, session.client, [](SessionRegistry::Resource& r) { r.interested = true; });
    const auto roster = read_roster(session.jid.bare_str());
    if (!roster) return make_unexpected(internal_error());
    const std::string version = std::to_string(roster->version);
    if (known_version == version) return {};  // §2.6.3: the cached roster is current
    reply.open("query").attr("xmlns", xmpp::ns::roster).attr("ver", version);
    for (const auto& item : roster->items)
        if (item.listed) write_item(reply, item);
    reply.close();
    return {};
}

IqResult Presence::roster_set(const Requester& session, const RosterChange& change)
{
    store::RosterStore* store = roster_store();
    if (!store) return make_unexpected(internal_error());
    const std::string owner = session.jid.bare_str();
    const auto count = store->count(owner);
    if (!count) return make_unexpected(internal_error());
    bool full = false;
    auto update = store->update(owner, change.jid.bare_str(), [&](std::optional<store::RosterItem>& item) {
        if (!item) {
            if (!roster_limits.may_add(*count)) {
                full = true;
                return;
            }
            item.emplace();
        }
        item->listed = true;
        item->name = change.name;
        item->groups = change.groups;
    });
    if (!update) {
        log::error("roster.write_failed", "jid={} error={}", log::quote(owner), log::quote(update.error().message));
        return make_unexpected(internal_error());
    }
    if (full)
        return make_unexpected(StanzaError::of(StanzaErrorCondition::ResourceConstraint, "the roster is full"));
    if (update->visible()) push(owner, *update);
    return {};
}

IqResult Presence::roster_remove(const Requester& session, const xmpp::Jid& contact_jid)
{
    store::RosterStore* store = roster_store();
    if (!store) return make_unexpected(internal_error());
    const std::string owner = session.jid.bare_str();
    const std::string contact = contact_jid.bare_str();
    std::optional<SubscriptionState> removed;
    auto update = store->update(owner, contact, [&](std::optional<store::RosterItem>& item) {
        if (!item || !item->listed) return;
        removed = item->state;
        item.reset();
    });
    if (!update) {
        log::error("roster.write_failed", "jid={} error={}", log::quote(owner), log::quote(update.error().message));
        return make_unexpected(internal_error());
    }
    // §2.5.3
    if (!removed) return make_unexpected(StanzaError::of(StanzaErrorCondition::ItemNotFound));
    push(owner, *update);

    // §2.5.2: removing an item cancels the subscriptions both ways, as 'unsubscribe' and 'unsubscribed'
    // from the user would (the user's own item is already gone).
    if (!account_exists(contact)) return {};
    if (sees_contact(removed->subscription) || removed->pending_out) {
        const auto in = inbound(SubscriptionKind::Unsubscribe, contact, owner,
                                presence_stanza(owner, contact, "unsubscribe"));
        if (in && in->transition.route) send_presence(contact, owner, true);
    }
    if (seen_by_contact(removed->subscription) || removed->pending_in) {
        inbound(SubscriptionKind::Unsubscribed, contact, owner, presence_stanza(owner, contact, "unsubscribed"));
        if (seen_by_contact(removed->subscription)) send_presence(owner, contact, true);
    }
    return {};
}

void Presence::set_carbons(const Requester& session, bool enabled)
{
    registry_.update(session.jid, session.client, [&](SessionRegistry::Resource& r) { r.carbons = enabled; });
}

}  // namespace tern::server
