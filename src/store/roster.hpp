#pragma once

// Rosters and presence subscription states in SQLite (RFC 6121 §2 and Appendix A), in their own file
// next to the accounts (roster.sqlite), so each database keeps its own schema version and ternctl builds
// that only know the accounts schema keep working.
// One RosterStore is one connection: use it from one thread at a time (ternd opens one per thread).
// Owners and contacts are bare JIDs, taken as given: callers pass them prepared.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.hpp"
#include "store/database.hpp"
#include "store/error.hpp"

struct sqlite3;

namespace tern::store {

inline constexpr std::string_view roster_file_name = "roster.sqlite";

// Who sees whose presence: To = the owner sees the contact's, From = the contact sees the owner's.
enum class Subscription : std::uint8_t { None, To, From, Both };
std::string_view to_string(Subscription subscription);  // "none", "to", "from", "both"

// The subscription between an owner and a contact as the owner's server sees it (RFC 6121 Appendix A).
struct SubscriptionState {
    Subscription subscription = Subscription::None;
    bool pending_out = false;  // the owner asked for the contact's presence (shown as ask='subscribe')
    bool pending_in = false;   // the contact asked for the owner's presence and awaits an answer

    friend bool operator==(const SubscriptionState&, const SubscriptionState&) = default;
};

struct RosterItem {
    std::string jid;  // the contact's bare JID
    std::string name;
    std::vector<std::string> groups;
    SubscriptionState state;
    // false for a contact that is only a pending inbound request: RFC 6121 §3.1.3 keeps that out of the
    // owner's roster until the owner adds or approves it.
    bool listed = true;
    std::string request;  // the contact's <presence type='subscribe'/>, redelivered while pending_in

    friend bool operator==(const RosterItem&, const RosterItem&) = default;
};

// Whether the owner's clients would see a difference (jid, name, groups, subscription, ask of a listed
// item): exactly the changes that move the roster version and are pushed (RFC 6121 §2.1.6, §2.6).
bool visible_change(const std::optional<RosterItem>& before, const std::optional<RosterItem>& after);

struct Roster {
    std::uint64_t version = 0;     // 0 until the first visible change
    std::vector<RosterItem> items;  // listed or not, sorted by jid
};

struct ItemUpdate {
    std::optional<RosterItem> before;
    std::optional<RosterItem> after;
    std::uint64_t version = 0;  // the roster version after the update
    bool visible() const { return visible_change(before, after); }
};

// What an owner's items add up to, listed or not.
struct RosterTotals {
    std::size_t items = 0;
    std::size_t request_bytes = 0;  // of the stored subscription requests
};

class RosterStore {
public:
    // Opens (creating if needed) the database file; the directory must exist.
    static expected<RosterStore, StoreError> open(const std::string& path);

    RosterStore(RosterStore&&) noexcept;
    RosterStore& operator=(RosterStore&&) noexcept;
    ~RosterStore();

    // Every item of the owner and the version, read in one transaction.
    expected<Roster, StoreError> roster(std::string_view owner);
    expected<std::optional<RosterItem>, StoreError> item(std::string_view owner, std::string_view contact);
    expected<std::size_t, StoreError> count(std::string_view owner);
    expected<RosterTotals, StoreError> totals(std::string_view owner);

    // Reads the item (nullopt when absent), lets `edit` change it (nullopt removes it), and writes the
    // result back in one write transaction, so concurrent updates from other threads or processes never
    // interleave. The version moves on when the change is visible.
    using Edit = std::function<void(std::optional<RosterItem>& item)>;
    expected<ItemUpdate, StoreError> update(std::string_view owner, std::string_view contact, const Edit& edit);

    // Removes all of the owner's items (e.g. when the account is deleted); the version still moves on.
    expected<void, StoreError> remove_owner(std::string_view owner);

private:
    struct Statements;
    RosterStore(Database db, std::unique_ptr<Statements> statements) noexcept;

    expected<std::uint64_t, StoreError> read_version(std::string_view owner);
    expected<std::optional<RosterItem>, StoreError> read_item(std::string_view owner, std::string_view contact);

    Database db_;  // declared first: the statements are finalized before it closes
    std::unique_ptr<Statements> statements_;
};

}  // namespace tern::store
