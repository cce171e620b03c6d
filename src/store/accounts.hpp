#pragma once

// Accounts in SQLite: SCRAM-SHA-1 and SCRAM-SHA-256 salted keys per (domain, localpart), never a password.
// One AccountStore is one connection: use it from one thread at a time (each worker opens its own).
// Several connections and processes (ternd and ternctl) share the file safely through WAL.
// Calls block on disk (and add/set_password on PBKDF2): keep them off the I/O threads.
// Domains and localparts are taken as given: callers pass them prepared (nameprep / nodeprep).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.hpp"
#include "crypto/crypto.hpp"
#include "store/database.hpp"
#include "store/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace tern::store {

// The account database's name inside data_dir.
inline constexpr std::string_view accounts_file_name = "accounts.sqlite";

// What is stored for one account: a salted key set per SCRAM hash, each with its own random salt.
struct Credentials {
    crypto::ScramKeys sha1;
    crypto::ScramKeys sha256;
};

inline constexpr std::size_t salt_bytes = 16;

// Derives both key sets from a SASLprep'd password with fresh random salts (two PBKDF2 runs).
Credentials make_credentials(std::string_view prepared_password, std::uint32_t iterations);

struct NewAccount {
    std::string domain;
    std::string local;
    Credentials credentials;
};

class AccountStore {
public:
    // Opens (creating if needed) the database file; the directory must exist.
    static expected<AccountStore, StoreError> open(const std::string& path);

    AccountStore(AccountStore&&) noexcept;
    AccountStore& operator=(AccountStore&&) noexcept;
    ~AccountStore();

    // `created` is stored as the account's creation time (the store never reads the clock).
    expected<void, StoreError> add(std::string_view domain, std::string_view local, std::string_view prepared_password,
                                   std::uint32_t iterations, std::chrono::sys_seconds created);
    // All or nothing, in one transaction; fails with Exists naming the first account already present.
    expected<void, StoreError> add_many(std::span<const NewAccount> accounts, std::chrono::sys_seconds created);

    expected<void, StoreError> set_password(std::string_view domain, std::string_view local,
                                            std::string_view prepared_password, std::uint32_t iterations);
    // true if the account existed.
    expected<bool, StoreError> remove(std::string_view domain, std::string_view local);

    expected<bool, StoreError> exists(std::string_view domain, std::string_view local);
    // Bare JIDs "local@domain", sorted by domain then localpart (bytewise); all domains when none is given.
    expected<std::vector<std::string>, StoreError> list(std::optional<std::string_view> domain = std::nullopt);
    // nullopt when there is no such account.
    expected<std::optional<crypto::ScramKeys>, StoreError> scram_keys(std::string_view domain, std::string_view local,
                                                                      crypto::Hash hash);
    expected<std::optional<std::chrono::sys_seconds>, StoreError> created(std::string_view domain,
                                                                         std::string_view local);

private:
    struct Statements;
    AccountStore(Database db, std::unique_ptr<Statements> statements) noexcept;

    expected<void, StoreError> insert(const NewAccount& account, std::chrono::sys_seconds created);

    Database db_;  // declared first: the statements are finalized before it closes
    std::unique_ptr<Statements> statements_;
};

}  // namespace tern::store
