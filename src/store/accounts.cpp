#include "store/accounts.hpp"

#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>

namespace tern::store {

namespace {

constexpr int schema_version = 1;
constexpr int busy_timeout_ms = 5000;

constexpr const char* create_schema = R"(
CREATE TABLE accounts (
    domain TEXT NOT NULL,
    localpart TEXT NOT NULL,
    created INTEGER NOT NULL,
    sha1_salt BLOB NOT NULL,
    sha1_iterations INTEGER NOT NULL,
    sha1_stored_key BLOB NOT NULL,
    sha1_server_key BLOB NOT NULL,
    sha256_salt BLOB NOT NULL,
    sha256_iterations INTEGER NOT NULL,
    sha256_stored_key BLOB NOT NULL,
    sha256_server_key BLOB NOT NULL,
    PRIMARY KEY (domain, localpart)
) WITHOUT ROWID;
)";

StoreError database_error(sqlite3* db, std::string_view doing)
{
    return {StoreErrc::Database, "accounts database: " + std::string{doing} + ": " + sqlite3_errmsg(db)};
}

std::string bare_jid(std::string_view domain, std::string_view local)
{
    return std::string{local} + '@' + std::string{domain};
}

struct StatementDeleter {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

// One use of a persistent statement: binds, steps, and resets it when the scope ends so it never holds
// a read transaction open between calls. Bound text and blobs must outlive the scope (SQLITE_STATIC).
class Use {
public:
    explicit Use(const Statement& s) : s_(s.get()) {}
    ~Use()
    {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

    Use& text(std::string_view v)
    {
        sqlite3_bind_text(s_, ++index_, data(v), static_cast<int>(v.size()), SQLITE_STATIC);
        return *this;
    }
    Use& blob(std::string_view v)
    {
        sqlite3_bind_blob(s_, ++index_, data(v), static_cast<int>(v.size()), SQLITE_STATIC);
        return *this;
    }
    Use& integer(std::int64_t v)
    {
        sqlite3_bind_int64(s_, ++index_, v);
        return *this;
    }
    Use& keys(const crypto::ScramKeys& k)
    {
        return blob(k.salt).integer(k.iterations).blob(k.stored_key).blob(k.server_key);
    }

    int step() { return sqlite3_step(s_); }

    std::string column_text(int i) const
    {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, i))) : std::string{};
    }
    std::string column_blob(int i) const
    {
        const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, i));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, i))) : std::string{};
    }
    std::int64_t column_integer(int i) const { return sqlite3_column_int64(s_, i); }

private:
    // A null pointer would bind SQL NULL instead of an empty value.
    static const char* data(std::string_view v) { return v.data() ? v.data() : ""; }

    sqlite3_stmt* s_;
    int index_ = 0;
};

expected<void, StoreError> exec(sqlite3* db, const char* sql)
{
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return make_unexpected(database_error(db, sql));
    return {};
}

expected<std::string, StoreError> pragma_text(sqlite3* db, const char* sql)
{
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) return make_unexpected(database_error(db, sql));
    const Statement s{raw};
    if (sqlite3_step(raw) != SQLITE_ROW) return make_unexpected(database_error(db, sql));
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
    return std::string{text ? text : ""};
}

// Switching a new file to WAL takes an exclusive lock, and SQLite skips the busy handler where waiting
// could deadlock (several connections opening the same new file, as ternd's workers do on first start),
// so retry for as long as the busy timeout would wait. An existing WAL file answers at once.
expected<void, StoreError> enable_wal(sqlite3* db, const std::string& path)
{
    constexpr int retry_ms = 10;
    for (int waited = 0;; waited += retry_ms) {
        sqlite3_stmt* raw = nullptr;
        const char* sql = "PRAGMA journal_mode = WAL";
        if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) return make_unexpected(database_error(db, sql));
        const Statement s{raw};
        const int rc = sqlite3_step(raw);
        if (rc == SQLITE_ROW) {
            const auto* mode = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
            if (mode && std::string_view{mode} == "wal") return {};
            return make_unexpected(StoreError{StoreErrc::Database, "accounts database: cannot use WAL mode on " +
                                                                       path + " (got " + (mode ? mode : "?") + ")"});
        }
        if ((rc & 0xff) != SQLITE_BUSY || waited >= busy_timeout_ms) return make_unexpected(database_error(db, sql));
        sqlite3_sleep(retry_ms);
    }
}

expected<int, StoreError> user_version(sqlite3* db)
{
    auto version = pragma_text(db, "PRAGMA user_version");
    if (!version) return make_unexpected(version.error());
    return std::stoi(*version);
}

// Rolls back unless committed.
class Transaction {
public:
    explicit Transaction(sqlite3* db) : db_(db) {}
    ~Transaction()
    {
        if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    expected<void, StoreError> begin()
    {
        auto r = exec(db_, "BEGIN IMMEDIATE");
        open_ = r.has_value();
        return r;
    }
    expected<void, StoreError> commit()
    {
        auto r = exec(db_, "COMMIT");
        open_ = !r.has_value();
        return r;
    }

private:
    sqlite3* db_;
    bool open_ = false;
};

// Creates the schema inside one write transaction, so two processes opening a new file at the same moment
// don't both create it. An existing current schema needs no write lock.
expected<void, StoreError> ensure_schema(sqlite3* db)
{
    auto version = user_version(db);
    if (version && *version == schema_version) return {};

    Transaction transaction{db};
    if (auto r = transaction.begin(); !r) return r;
    version = user_version(db);
    if (!version) return make_unexpected(version.error());
    if (*version == schema_version) return {};  // created by another connection meanwhile
    if (*version != 0)
        return make_unexpected(StoreError{StoreErrc::Database, "accounts database: schema version " +
                                                                   std::to_string(*version) +
                                                                   " is not supported (this build knows " +
                                                                   std::to_string(schema_version) + ")"});
    if (auto r = exec(db, create_schema); !r) return r;
    if (auto r = exec(db, ("PRAGMA user_version = " + std::to_string(schema_version)).c_str()); !r) return r;
    return transaction.commit();
}

}  // namespace

struct AccountStore::Statements {
    Statement insert, update_keys, remove, exists, sha1_keys, sha256_keys, created, list_all, list_domain;
};

std::string_view to_string(StoreErrc code)
{
    switch (code) {
    case StoreErrc::Exists: return "exists";
    case StoreErrc::NotFound: return "not-found";
    case StoreErrc::Database: return "database";
    }
    return "?";
}

Credentials make_credentials(std::string_view prepared_password, std::uint32_t iterations)
{
    return {
        crypto::derive_scram_keys(crypto::Hash::Sha1, prepared_password, crypto::random_bytes(salt_bytes), iterations),
        crypto::derive_scram_keys(crypto::Hash::Sha256, prepared_password, crypto::random_bytes(salt_bytes),
                                  iterations),
    };
}

expected<AccountStore, StoreError> AccountStore::open(const std::string& path)
{
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    // From here on the connection is closed on every early return.
    std::unique_ptr<sqlite3, decltype(&sqlite3_close_v2)> guard{db, &sqlite3_close_v2};
    if (rc != SQLITE_OK) {
        const std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        return make_unexpected(StoreError{StoreErrc::Database, "accounts database: cannot open " + path + ": " + why});
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy_timeout_ms);

    if (auto r = enable_wal(db, path); !r) return make_unexpected(r.error());
    if (auto r = exec(db, "PRAGMA synchronous = NORMAL"); !r) return make_unexpected(r.error());
    if (auto r = ensure_schema(db); !r) return make_unexpected(r.error());

    auto statements = std::make_unique<Statements>();
    const std::pair<Statement*, const char*> sql[] = {
        {&statements->insert,
         "INSERT INTO accounts (domain, localpart, created, sha1_salt, sha1_iterations, sha1_stored_key, "
         "sha1_server_key, sha256_salt, sha256_iterations, sha256_stored_key, sha256_server_key) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
        {&statements->update_keys,
         "UPDATE accounts SET sha1_salt = ?, sha1_iterations = ?, sha1_stored_key = ?, sha1_server_key = ?, "
         "sha256_salt = ?, sha256_iterations = ?, sha256_stored_key = ?, sha256_server_key = ? "
         "WHERE domain = ? AND localpart = ?"},
        {&statements->remove, "DELETE FROM accounts WHERE domain = ? AND localpart = ?"},
        {&statements->exists, "SELECT 1 FROM accounts WHERE domain = ? AND localpart = ?"},
        {&statements->sha1_keys,
         "SELECT sha1_salt, sha1_iterations, sha1_stored_key, sha1_server_key FROM accounts "
         "WHERE domain = ? AND localpart = ?"},
        {&statements->sha256_keys,
         "SELECT sha256_salt, sha256_iterations, sha256_stored_key, sha256_server_key FROM accounts "
         "WHERE domain = ? AND localpart = ?"},
        {&statements->created, "SELECT created FROM accounts WHERE domain = ? AND localpart = ?"},
        {&statements->list_all, "SELECT domain, localpart FROM accounts ORDER BY domain, localpart"},
        {&statements->list_domain, "SELECT domain, localpart FROM accounts WHERE domain = ? ORDER BY localpart"},
    };
    for (const auto& [statement, text] : sql) {
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v3(db, text, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK)
            return make_unexpected(database_error(db, "preparing statements"));
        statement->reset(raw);
    }
    return AccountStore{guard.release(), std::move(statements)};
}

AccountStore::AccountStore(sqlite3* db, std::unique_ptr<Statements> statements) noexcept
    : db_(db), statements_(std::move(statements))
{
}

AccountStore::AccountStore(AccountStore&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), statements_(std::move(other.statements_))
{
}

AccountStore& AccountStore::operator=(AccountStore&& other) noexcept
{
    if (this != &other) {
        statements_.reset();
        sqlite3_close_v2(db_);
        db_ = std::exchange(other.db_, nullptr);
        statements_ = std::move(other.statements_);
    }
    return *this;
}

AccountStore::~AccountStore()
{
    statements_.reset();  // statements are finalized before their connection closes
    sqlite3_close_v2(db_);
}

expected<void, StoreError> AccountStore::insert(const NewAccount& account, std::chrono::sys_seconds created)
{
    Use use{statements_->insert};
    use.text(account.domain).text(account.local).integer(created.time_since_epoch().count());
    use.keys(account.credentials.sha1).keys(account.credentials.sha256);
    const int rc = use.step();
    if (rc == SQLITE_DONE) return {};
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return make_unexpected(
            StoreError{StoreErrc::Exists, "account " + bare_jid(account.domain, account.local) + " already exists"});
    return make_unexpected(database_error(db_, "adding " + bare_jid(account.domain, account.local)));
}

expected<void, StoreError> AccountStore::add(std::string_view domain, std::string_view local,
                                             std::string_view prepared_password, std::uint32_t iterations,
                                             std::chrono::sys_seconds created)
{
    // Spare the key derivation when the answer is already known; the insert still decides.
    auto found = exists(domain, local);
    if (!found) return make_unexpected(found.error());
    if (*found)
        return make_unexpected(StoreError{StoreErrc::Exists, "account " + bare_jid(domain, local) + " already exists"});
    return insert({std::string{domain}, std::string{local}, make_credentials(prepared_password, iterations)}, created);
}

expected<void, StoreError> AccountStore::add_many(std::span<const NewAccount> accounts, std::chrono::sys_seconds created)
{
    Transaction transaction{db_};
    if (auto r = transaction.begin(); !r) return r;
    for (const auto& account : accounts)
        if (auto r = insert(account, created); !r) return r;
    return transaction.commit();
}

expected<void, StoreError> AccountStore::set_password(std::string_view domain, std::string_view local,
                                                      std::string_view prepared_password, std::uint32_t iterations)
{
    auto found = exists(domain, local);
    if (!found) return make_unexpected(found.error());
    if (!*found) return make_unexpected(StoreError{StoreErrc::NotFound, "no account " + bare_jid(domain, local)});

    const Credentials credentials = make_credentials(prepared_password, iterations);
    Use use{statements_->update_keys};
    use.keys(credentials.sha1).keys(credentials.sha256).text(domain).text(local);
    if (use.step() != SQLITE_DONE) return make_unexpected(database_error(db_, "setting the password"));
    // The account may have been removed by another connection during the derivation.
    if (sqlite3_changes(db_) == 0)
        return make_unexpected(StoreError{StoreErrc::NotFound, "no account " + bare_jid(domain, local)});
    return {};
}

expected<bool, StoreError> AccountStore::remove(std::string_view domain, std::string_view local)
{
    Use use{statements_->remove};
    use.text(domain).text(local);
    if (use.step() != SQLITE_DONE) return make_unexpected(database_error(db_, "removing " + bare_jid(domain, local)));
    return sqlite3_changes(db_) > 0;
}

expected<bool, StoreError> AccountStore::exists(std::string_view domain, std::string_view local)
{
    Use use{statements_->exists};
    use.text(domain).text(local);
    const int rc = use.step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return make_unexpected(database_error(db_, "looking up " + bare_jid(domain, local)));
}

expected<std::vector<std::string>, StoreError> AccountStore::list(std::optional<std::string_view> domain)
{
    Use use{domain ? statements_->list_domain : statements_->list_all};
    if (domain) use.text(*domain);
    std::vector<std::string> jids;
    int rc;
    while ((rc = use.step()) == SQLITE_ROW) jids.push_back(bare_jid(use.column_text(0), use.column_text(1)));
    if (rc != SQLITE_DONE) return make_unexpected(database_error(db_, "listing accounts"));
    return jids;
}

expected<std::optional<crypto::ScramKeys>, StoreError> AccountStore::scram_keys(std::string_view domain,
                                                                                std::string_view local,
                                                                                crypto::Hash hash)
{
    Use use{hash == crypto::Hash::Sha1 ? statements_->sha1_keys : statements_->sha256_keys};
    use.text(domain).text(local);
    const int rc = use.step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return make_unexpected(database_error(db_, "reading keys of " + bare_jid(domain, local)));
    return crypto::ScramKeys{use.column_blob(0), static_cast<std::uint32_t>(use.column_integer(1)), use.column_blob(2),
                             use.column_blob(3)};
}

expected<std::optional<std::chrono::sys_seconds>, StoreError> AccountStore::created(std::string_view domain,
                                                                                   std::string_view local)
{
    Use use{statements_->created};
    use.text(domain).text(local);
    const int rc = use.step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) return make_unexpected(database_error(db_, "reading " + bare_jid(domain, local)));
    return std::chrono::sys_seconds{std::chrono::seconds{use.column_integer(0)}};
}

}  // namespace tern::store
