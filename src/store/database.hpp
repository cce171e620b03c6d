#pragma once

// The owning handle of a store's SQLite connection, usable in public headers without <sqlite3.h>.
#include <memory>

struct sqlite3;

namespace tern::store {

struct DatabaseCloser {
    void operator()(sqlite3* db) const noexcept;  // sqlite3_close_v2
};
using Database = std::unique_ptr<sqlite3, DatabaseCloser>;

}  // namespace tern::store
