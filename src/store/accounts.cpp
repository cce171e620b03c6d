#include "store/accounts.hpp"

#include <memory>
#include <string>
#include <utility>

#include "store/sqlite.hpp"

namespace tern::store {

namespace {

constexpr std::string_view label = "accounts database";
constexpr sqlite::Schema schema{1, R"(
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
)"};

using sqlite::Statement;
using sqlite::Use;

StoreError database_error(sqlite3* db, std::string_view doing)
{
    return sqlite::database_error(db, label, doing);
}

std::string bare_jid(std::string_view domain, std::string_view local)
{
    return std::string{local} + '@' + std::string{domain};
}

Use& bind_keys(Use& use, const crypto::ScramKeys& k)
{
    return use.blob(k.salt).integer(k.iterations).blob(k.stored_key).blob(k.server_key);
}

}  // namespace

struct AccountStore::Statements {
    Statement insert, update_keys, remove, exists, sha1_keys, sha256_keys, created, list_all, list_domain;
};

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
    auto db = sqlite::open(path, label, schema);
    if (!db) return make_unexpected(db.error());
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
    if (auto r = sqlite::prepare(db->get(), label, sql); !r) return make_unexpected(r.error());
    return AccountStore{std::move(*db), std::move(statements)};
}

AccountStore::AccountStore(Database db, std::unique_ptr<Statements> statements) noexcept
    : db_(std::move(db)), statements_(std::move(statements))
{
}

AccountStore::AccountStore(AccountStore&&) noexcept = default;
AccountStore& AccountStore::operator=(AccountStore&&) noexcept = default;
AccountStore::~AccountStore() = default;

expected<void, StoreError> AccountStore::insert(const NewAccount& account, std::chrono::sys_seconds created)
{
    Use use{statements_->insert};
    use.text(account.domain).text(account.local).integer(created.time_since_epoch().count());
    bind_keys(bind_keys(use, account.credentials.sha1), account.credentials.sha256);
    const int rc = use.step();
    if (rc == SQLITE_DONE) return {};
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return make_unexpected(
            StoreError{StoreErrc::Exists, "account " + bare_jid(account.domain, account.local) + " already exists"});
    return make_unexpected(database_error(db_.get(), "adding " + bare_jid(account.domain, account.local)));
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
    sqlite::Transaction transaction{db_.get(), label};
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
    bind_keys(bind_keys(use, credentials.sha1), credentials.sha256).text(domain).text(local);
    if (use.step() != SQLITE_DONE) return make_unexpected(database_error(db_.get(), "setting the password"));
    // The account may have been removed by another connection during the derivation.
    if (sqlite3_changes(db_.get()) == 0)
        return make_unexpected(StoreError{StoreErrc::NotFound, "no account " + bare_jid(domain, local)});
    return {};
}

expected<bool, StoreError> AccountStore::remove(std::string_view domain, std::string_view local)
{
    Use use{statements_->remove};
    use.text(domain).text(local);
    if (use.step() != SQLITE_DONE) return make_unexpected(database_error(db_.get(), "removing " + bare_jid(domain, local)));
    return sqlite3_changes(db_.get()) > 0;
}

expected<bool, StoreError> AccountStore::exists(std::string_view domain, std::string_view local)
{
    Use use{statements_->exists};
    use.text(domain).text(local);
    const int rc = use.step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return make_unexpected(database_error(db_.get(), "looking up " + bare_jid(domain, local)));
}

expected<std::vector<std::string>, StoreError> AccountStore::list(std::optional<std::string_view> domain)
{
    Use use{domain ? statements_->list_domain : statements_->list_all};
    if (domain) use.text(*domain);
    std::vector<std::string> jids;
    int rc;
    while ((rc = use.step()) == SQLITE_ROW) jids.push_back(bare_jid(use.column_text(0), use.column_text(1)));
    if (rc != SQLITE_DONE) return make_unexpected(database_error(db_.get(), "listing accounts"));
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
    if (rc != SQLITE_ROW) return make_unexpected(database_error(db_.get(), "reading keys of " + bare_jid(domain, local)));
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
    if (rc != SQLITE_ROW) return make_unexpected(database_error(db_.get(), "reading " + bare_jid(domain, local)));
    return std::chrono::sys_seconds{std::chrono::seconds{use.column_integer(0)}};
}

}  // namespace tern::store
