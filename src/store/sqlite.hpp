#pragma once

// SQLite plumbing shared by the stores (internal to store/): opening a WAL database and creating its
// schema, persistent statements used one call at a time, and write transactions. Every error message
// starts with the database's label ("accounts database: ...").
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "base/expected.hpp"
#include "store/database.hpp"
#include "store/error.hpp"

namespace tern::store::sqlite {

struct StatementDeleter {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

using Connection = Database;

StoreError database_error(sqlite3* db, std::string_view label, std::string_view doing);

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

expected<void, StoreError> exec(sqlite3* db, std::string_view label, const char* sql);

// BEGIN IMMEDIATE (the write lock up front, so a read-modify-write never has to be retried); rolls back
// unless committed.
class Transaction {
public:
    Transaction(sqlite3* db, std::string_view label) : db_(db), label_(label) {}
    ~Transaction()
    {
        if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    expected<void, StoreError> begin()
    {
        auto r = exec(db_, label_, "BEGIN IMMEDIATE");
        open_ = r.has_value();
        return r;
    }
    expected<void, StoreError> commit()
    {
        auto r = exec(db_, label_, "COMMIT");
        open_ = !r.has_value();
        return r;
    }

private:
    sqlite3* db_;
    std::string_view label_;
    bool open_ = false;
};

struct Schema {
    int version;         // PRAGMA user_version once created
    const char* create;  // the statements creating it in an empty file
};

// Opens (creating if needed) the file with WAL, synchronous=NORMAL and a busy timeout, and creates the
// schema in a new file. A file with another schema version is refused.
expected<Connection, StoreError> open(const std::string& path, std::string_view label, const Schema& schema);

// Prepares each (statement, SQL) pair as a persistent statement.
expected<void, StoreError> prepare(sqlite3* db, std::string_view label,
                                   std::span<const std::pair<Statement*, const char*>> statements);

}  // namespace tern::store::sqlite
