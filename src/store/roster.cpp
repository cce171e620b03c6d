#include "store/roster.hpp"

#include <utility>

#include "store/sqlite.hpp"

namespace tern::store {

namespace {

constexpr std::string_view label = "roster database";
// Groups are kept NUL-separated in one column: XML character data can never contain NUL.
constexpr sqlite::Schema schema{1, R"(
CREATE TABLE roster_items (
    owner TEXT NOT NULL,
    contact TEXT NOT NULL,
    name TEXT NOT NULL,
    groups BLOB NOT NULL,
    subscription TEXT NOT NULL CHECK (subscription IN ('none', 'to', 'from', 'both')),
    pending_out INTEGER NOT NULL,
    pending_in INTEGER NOT NULL,
    listed INTEGER NOT NULL,
    request TEXT NOT NULL,
    PRIMARY KEY (owner, contact)
) WITHOUT ROWID;
CREATE TABLE roster_versions (
    owner TEXT NOT NULL PRIMARY KEY,
    version INTEGER NOT NULL
) WITHOUT ROWID;
)"};

using sqlite::Statement;
using sqlite::Use;

StoreError database_error(sqlite3* db, std::string_view doing)
{
    return sqlite::database_error(db, label, doing);
}

std::string join_groups(const std::vector<std::string>& groups)
{
    std::string joined;
    for (const auto& group : groups) {
        if (!joined.empty()) joined += '\0';
        joined += group;
    }
    return joined;
}

std::vector<std::string> split_groups(std::string_view joined)
{
    std::vector<std::string> groups;
    if (joined.empty()) return groups;
    for (;;) {
        const auto nul = joined.find('\0');
        groups.emplace_back(joined.substr(0, nul));
        if (nul == std::string_view::npos) return groups;
        joined.remove_prefix(nul + 1);
    }
}

Subscription parse_subscription(std::string_view text)
{
    if (text == "to") return Subscription::To;
    if (text == "from") return Subscription::From;
    if (text == "both") return Subscription::Both;
    return Subscription::None;  // the CHECK constraint allows nothing else
}

// Columns: contact, name, groups, subscription, pending_out, pending_in, listed, request.
RosterItem read_row(const Use& use)
{
    RosterItem item;
    item.jid = use.column_text(0);
    item.name = use.column_text(1);
    item.groups = split_groups(use.column_blob(2));
    item.state.subscription = parse_subscription(use.column_text(3));
    item.state.pending_out = use.column_integer(4) != 0;
    item.state.pending_in = use.column_integer(5) != 0;
    item.listed = use.column_integer(6) != 0;
    item.request = use.column_text(7);
    return item;
}

// A read transaction, so several SELECTs see one snapshot.
class Snapshot {
public:
    explicit Snapshot(sqlite3* db) : db_(db) {}
    ~Snapshot()
    {
        if (open_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    }
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;
    expected<void, StoreError> begin()
    {
        auto r = sqlite::exec(db_, label, "BEGIN");
        open_ = r.has_value();
        return r;
    }

private:
    sqlite3* db_;
    bool open_ = false;
};

}  // namespace

std::string_view to_string(Subscription subscription)
{
    switch (subscription) {
    case Subscription::None: return "none";
    case Subscription::To: return "to";
    case Subscription::From: return "from";
    case Subscription::Both: return "both";
    }
    return "?";
}

bool visible_change(const std::optional<RosterItem>& before, const std::optional<RosterItem>& after)
{
    const bool was = before && before->listed;
    const bool is = after && after->listed;
    if (was != is) return true;
    if (!is) return false;
    return before->name != after->name || before->groups != after->groups ||
           before->state.subscription != after->state.subscription ||
           before->state.pending_out != after->state.pending_out;
}

struct RosterStore::Statements {
    Statement select_item, select_items, count_items, upsert_item, delete_item, select_version, upsert_version,
        delete_items;
};

expected<RosterStore, StoreError> RosterStore::open(const std::string& path)
{
    auto db = sqlite::open(path, label, schema);
    if (!db) return make_unexpected(db.error());

    constexpr const char* columns = "contact, name, groups, subscription, pending_out, pending_in, listed, request";
    const std::string select_item = std::string("SELECT ") + columns + " FROM roster_items WHERE owner = ? AND contact = ?";
    const std::string select_items = std::string("SELECT ") + columns + " FROM roster_items WHERE owner = ? ORDER BY contact";
    auto statements = std::make_unique<Statements>();
    const std::pair<Statement*, const char*> sql[] = {
        {&statements->select_item, select_item.c_str()},
        {&statements->select_items, select_items.c_str()},
        {&statements->count_items,
         "SELECT count(*), coalesce(sum(length(CAST(request AS BLOB))), 0) FROM roster_items WHERE owner = ?"},
        {&statements->upsert_item,
         "INSERT OR REPLACE INTO roster_items (owner, contact, name, groups, subscription, pending_out, pending_in, "
         "listed, request) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"},
        {&statements->delete_item, "DELETE FROM roster_items WHERE owner = ? AND contact = ?"},
        {&statements->select_version, "SELECT version FROM roster_versions WHERE owner = ?"},
        {&statements->upsert_version, "INSERT OR REPLACE INTO roster_versions (owner, version) VALUES (?, ?)"},
        {&statements->delete_items, "DELETE FROM roster_items WHERE owner = ?"},
    };
    if (auto r = sqlite::prepare(db->get(), label, sql); !r) return make_unexpected(r.error());
    return RosterStore{std::move(*db), std::move(statements)};
}

RosterStore::RosterStore(Database db, std::unique_ptr<Statements> statements) noexcept
    : db_(std::move(db)), statements_(std::move(statements))
{
}

RosterStore::RosterStore(RosterStore&&) noexcept = default;
RosterStore& RosterStore::operator=(RosterStore&&) noexcept = default;
RosterStore::~RosterStore() = default;

expected<std::uint64_t, StoreError> RosterStore::read_version(std::string_view owner)
{
    Use use{statements_->select_version};
    use.text(owner);
    const int rc = use.step();
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return make_unexpected(database_error(db_.get(), "reading the roster version"));
    return static_cast<std::uint64_t>(use.column_integer(0));
}

expected<std::optional<RosterItem>, StoreError> RosterStore::read_item(std::string_view owner, std::string_view contact)
{
    Use use{statements_->select_item};
    use.text(owner).text(contact);
    const int rc = use.step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return make_unexpected(database_error(db_.get(), "reading a roster item"));
    return read_row(use);
}

expected<Roster, StoreError> RosterStore::roster(std::string_view owner)
{
    Snapshot snapshot{db_.get()};
    if (auto r = snapshot.begin(); !r) return make_unexpected(r.error());
    Roster roster;
    auto version = read_version(owner);
    if (!version) return make_unexpected(version.error());
    roster.version = *version;
    Use use{statements_->select_items};
    use.text(owner);
    int rc;
    while ((rc = use.step()) == SQLITE_ROW) roster.items.push_back(read_row(use));
    if (rc != SQLITE_DONE) return make_unexpected(database_error(db_.get(), "reading the roster"));
    return roster;
}

expected<std::optional<RosterItem>, StoreError> RosterStore::item(std::string_view owner, std::string_view contact)
{
    return read_item(owner, contact);
}

expected<std::size_t, StoreError> RosterStore::count(std::string_view owner)
{
    auto t = totals(owner);
    if (!t) return make_unexpected(t.error());
    return t->items;
}

expected<RosterTotals, StoreError> RosterStore::totals(std::string_view owner)
{
    Use use{statements_->count_items};
    use.text(owner);
    if (use.step() != SQLITE_ROW) return make_unexpected(database_error(db_.get(), "counting roster items"));
    return RosterTotals{static_cast<std::size_t>(use.column_integer(0)), static_cast<std::size_t>(use.column_integer(1))};
}

expected<ItemUpdate, StoreError> RosterStore::update(std::string_view owner, std::string_view contact, const Edit& edit)
{
    sqlite::Transaction transaction{db_.get(), label};
    if (auto r = transaction.begin(); !r) return make_unexpected(r.error());
    ItemUpdate update;
    auto before = read_item(owner, contact);
    if (!before) return make_unexpected(before.error());
    update.before = std::move(*before);
    update.after = update.before;
    edit(update.after);
    if (update.after) update.after->jid = std::string(contact);
    auto version = read_version(owner);
    if (!version) return make_unexpected(version.error());
    update.version = *version;
    if (update.after == update.before) return update;  // nothing to write; the transaction rolls back

    if (update.after) {
        const RosterItem& item = *update.after;
        const std::string groups = join_groups(item.groups);
        Use use{statements_->upsert_item};
        use.text(owner).text(contact).text(item.name).blob(groups).text(to_string(item.state.subscription));
        use.integer(item.state.pending_out).integer(item.state.pending_in).integer(item.listed).text(item.request);
        if (use.step() != SQLITE_DONE) return make_unexpected(database_error(db_.get(), "writing a roster item"));
    } else {
        Use use{statements_->delete_item};
        use.text(owner).text(contact);
        if (use.step() != SQLITE_DONE) return make_unexpected(database_error(db_.get(), "removing a roster item"));
    }
    if (update.visible()) {
        ++update.version;
        Use use{statements_->upsert_version};
        use.text(owner).integer(static_cast<std::int64_t>(update.version));
        if (use.step() != SQLITE_DONE) return make_unexpected(database_error(db_.get(), "writing the roster version"));
    }
    if (auto r = transaction.commit(); !r) return make_unexpected(r.error());
    return update;
}

expected<void, StoreError> RosterStore::remove_owner(std::string_view owner)
{
    sqlite::Transaction transaction{db_.get(), label};
    if (auto r = transaction.begin(); !r) return r;
    auto version = read_version(owner);
    if (!version) return make_unexpected(version.error());
    {
        Use use{statements_->delete_items};
        use.text(owner);
        if (use.step() != SQLITE_DONE) return make_unexpected(database_error(db_.get(), "removing a roster"));
    }
    // The version moves on rather than restarting: a client that cached the old roster must not find
    // its version current again if the account is created anew.
    Use use{statements_->upsert_version};
    use.text(owner).integer(static_cast<std::int64_t>(*version + 1));
    if (use.step() != SQLITE_DONE) return make_unexpected(database_error(db_.get(), "writing the roster version"));
    return transaction.commit();
}

}  // namespace tern::store
