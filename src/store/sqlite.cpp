#include "store/sqlite.hpp"

namespace tern::store {

std::string_view to_string(StoreErrc code)
{
    switch (code) {
    case StoreErrc::Exists: return "exists";
    case StoreErrc::NotFound: return "not-found";
    case StoreErrc::Database: return "database";
    }
    return "?";
}

}  // namespace tern::store

namespace tern::store::sqlite {

namespace {

constexpr int busy_timeout_ms = 5000;

StoreError failure(std::string_view label, std::string text)
{
    return {StoreErrc::Database, std::string{label} + ": " + text};
}

expected<std::string, StoreError> pragma_text(sqlite3* db, std::string_view label, const char* sql)
{
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK)
        return make_unexpected(database_error(db, label, sql));
    const Statement s{raw};
    if (sqlite3_step(raw) != SQLITE_ROW) return make_unexpected(database_error(db, label, sql));
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
    return std::string{text ? text : ""};
}

// Switching a new file to WAL takes an exclusive lock, and SQLite skips the busy handler where waiting
// could deadlock (several connections opening the same new file, as ternd's workers do on first start),
// so retry for as long as the busy timeout would wait. An existing WAL file answers at once.
expected<void, StoreError> enable_wal(sqlite3* db, std::string_view label, const std::string& path)
{
    constexpr int retry_ms = 10;
    for (int waited = 0;; waited += retry_ms) {
        sqlite3_stmt* raw = nullptr;
        const char* sql = "PRAGMA journal_mode = WAL";
        if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK)
            return make_unexpected(database_error(db, label, sql));
        const Statement s{raw};
        const int rc = sqlite3_step(raw);
        if (rc == SQLITE_ROW) {
            const auto* mode = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
            if (mode && std::string_view{mode} == "wal") return {};
            return make_unexpected(
                failure(label, "cannot use WAL mode on " + path + " (got " + (mode ? mode : "?") + ")"));
        }
        if ((rc & 0xff) != SQLITE_BUSY || waited >= busy_timeout_ms)
            return make_unexpected(database_error(db, label, sql));
        sqlite3_sleep(retry_ms);
    }
}

expected<int, StoreError> user_version(sqlite3* db, std::string_view label)
{
    auto version = pragma_text(db, label, "PRAGMA user_version");
    if (!version) return make_unexpected(version.error());
    return std::stoi(*version);
}

// Creates the schema inside one write transaction, so two processes opening a new file at the same moment
// don't both create it. An existing current schema needs no write lock.
expected<void, StoreError> ensure_schema(sqlite3* db, std::string_view label, const Schema& schema)
{
    auto version = user_version(db, label);
    if (version && *version == schema.version) return {};

    Transaction transaction{db, label};
    if (auto r = transaction.begin(); !r) return r;
    version = user_version(db, label);
    if (!version) return make_unexpected(version.error());
    if (*version == schema.version) return {};  // created by another connection meanwhile
    if (*version != 0)
        return make_unexpected(failure(label, "schema version " + std::to_string(*version) +
                                                  " is not supported (this build knows " +
                                                  std::to_string(schema.version) + ")"));
    if (auto r = exec(db, label, schema.create); !r) return r;
    if (auto r = exec(db, label, ("PRAGMA user_version = " + std::to_string(schema.version)).c_str()); !r) return r;
    return transaction.commit();
}

}  // namespace

StoreError database_error(sqlite3* db, std::string_view label, std::string_view doing)
{
    return failure(label, std::string{doing} + ": " + sqlite3_errmsg(db));
}

expected<void, StoreError> exec(sqlite3* db, std::string_view label, const char* sql)
{
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
        return make_unexpected(database_error(db, label, sql));
    return {};
}

expected<Connection, StoreError> open(const std::string& path, std::string_view label, const Schema& schema)
{
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    // From here on the connection is closed on every early return.
    Connection db{raw};
    if (rc != SQLITE_OK) {
        const std::string why = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
        return make_unexpected(failure(label, "cannot open " + path + ": " + why));
    }
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, busy_timeout_ms);

    if (auto r = enable_wal(raw, label, path); !r) return make_unexpected(r.error());
    if (auto r = exec(raw, label, "PRAGMA synchronous = NORMAL"); !r) return make_unexpected(r.error());
    if (auto r = ensure_schema(raw, label, schema); !r) return make_unexpected(r.error());
    return db;
}

expected<void, StoreError> prepare(sqlite3* db, std::string_view label,
                                   std::span<const std::pair<Statement*, const char*>> statements)
{
    for (const auto& [statement, text] : statements) {
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v3(db, text, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK)
            return make_unexpected(database_error(db, label, "preparing statements"));
        statement->reset(raw);
    }
    return {};
}

}  // namespace tern::store::sqlite

namespace tern::store {

void DatabaseCloser::operator()(sqlite3* db) const noexcept
{
    sqlite3_close_v2(db);
}

}  // namespace tern::store
