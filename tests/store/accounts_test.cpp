#include "store/accounts.hpp"

#include <doctest/doctest.h>

#include "temp_dir.hpp"
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace tern;
using namespace tern::store;
using std::chrono::sys_seconds;

namespace {

// Few iterations keep the suite fast; one test uses the production minimum.
constexpr std::uint32_t test_iterations = 64;
const sys_seconds t0{std::chrono::seconds{1700000000}};

// Every TempDir here names accounts.sqlite by default.
struct TempDir : test::TempDir {
    TempDir() : test::TempDir("accounts.sqlite") {}
};

AccountStore open_ok(const std::string& path)
{
    auto store = AccountStore::open(path);
    if (!store) FAIL(store.error().message);
    return std::move(*store);
}

crypto::ScramKeys keys_of(AccountStore& s, std::string_view domain, std::string_view local, crypto::Hash h)
{
    auto keys = s.scram_keys(domain, local, h);
    REQUIRE(keys.has_value());
    REQUIRE(keys->has_value());
    return **keys;
}

bool verifies(const crypto::ScramKeys& stored, crypto::Hash h, std::string_view password)
{
    const auto derived = crypto::derive_scram_keys(h, password, stored.salt, stored.iterations);
    return derived.stored_key == stored.stored_key && derived.server_key == stored.server_key;
}

void set_user_version(const std::string& path, int version)
{
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, ("PRAGMA user_version = " + std::to_string(version)).c_str(), nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(db);
}

}  // namespace

TEST_SUITE("store") {

TEST_CASE("accounts add, exists, list, remove")
{
    TempDir dir;
    auto s = open_ok(dir.file());
    CHECK(s.exists("example.org", "alice") == false);
    REQUIRE(s.add("example.org", "alice", "secret", test_iterations, t0));
    REQUIRE(s.add("example.org", "bob", "secret", test_iterations, t0));
    REQUIRE(s.add("a.example", "zed", "pw", test_iterations, t0));
    CHECK(s.exists("example.org", "alice") == true);
    CHECK(s.exists("example.org", "Alice") == false);  // the store compares prepared strings exactly
    CHECK(s.exists("other.org", "alice") == false);

    CHECK(s.list() == std::vector<std::string>{"zed@a.example", "alice@example.org", "bob@example.org"});
    CHECK(s.list("example.org") == std::vector<std::string>{"alice@example.org", "bob@example.org"});
    CHECK(s.list("none.org") == std::vector<std::string>{});

    CHECK(s.remove("example.org", "alice") == true);
    CHECK(s.remove("example.org", "alice") == false);
    CHECK(s.exists("example.org", "alice") == false);
    auto gone = s.scram_keys("example.org", "alice", crypto::Hash::Sha256);
    REQUIRE(gone);
    CHECK_FALSE(gone->has_value());
    CHECK(s.list("example.org") == std::vector<std::string>{"bob@example.org"});
}

TEST_CASE("accounts refuse a duplicate add and keep the first password")
{
    TempDir dir;
    auto s = open_ok(dir.file());
    REQUIRE(s.add("example.org", "alice", "first", test_iterations, t0));
    auto again = s.add("example.org", "alice", "second", test_iterations, t0);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == StoreErrc::Exists);
    CHECK(again.error().message == "account alice@example.org already exists");
    CHECK(verifies(keys_of(s, "example.org", "alice", crypto::Hash::Sha256), crypto::Hash::Sha256, "first"));
}

TEST_CASE("accounts store SCRAM keys that verify against the password with a separate salt per hash")
{
    TempDir dir;
    auto s = open_ok(dir.file());
    REQUIRE(s.add("example.org", "alice", "pencil", 4096, t0));
    REQUIRE(s.add("example.org", "bob", "pencil", 4096, t0));
    const auto a1 = keys_of(s, "example.org", "alice", crypto::Hash::Sha1);
    const auto a256 = keys_of(s, "example.org", "alice", crypto::Hash::Sha256);
    const auto b256 = keys_of(s, "example.org", "bob", crypto::Hash::Sha256);

    CHECK(a1.iterations == 4096);
    CHECK(a256.iterations == 4096);
    CHECK(a1.salt.size() == salt_bytes);
    CHECK(a256.salt.size() == salt_bytes);
    CHECK(a1.stored_key.size() == 20);
    CHECK(a1.server_key.size() == 20);
    CHECK(a256.stored_key.size() == 32);
    CHECK(a256.server_key.size() == 32);
    CHECK(a1.salt != a256.salt);
    CHECK(a256.salt != b256.salt);
    CHECK(a256.stored_key != b256.stored_key);

    CHECK(verifies(a1, crypto::Hash::Sha1, "pencil"));
    CHECK(verifies(a256, crypto::Hash::Sha256, "pencil"));
    CHECK_FALSE(verifies(a256, crypto::Hash::Sha256, "pencil "));
    CHECK_FALSE(verifies(a1, crypto::Hash::Sha1, "Pencil"));
}

TEST_CASE("accounts never store the password itself")
{
    TempDir dir;
    const std::string path = dir.file();
    {
        auto s = open_ok(path);
        REQUIRE(s.add("example.org", "alice", "UniqueMarkerPassword42", test_iterations, t0));
    }
    std::string bytes;
    for (const char* suffix : {"", "-wal"}) {
        std::ifstream in(path + suffix, std::ios::binary);
        bytes.append(std::istreambuf_iterator<char>(in), {});
    }
    CHECK(bytes.find("alice") != std::string::npos);
    CHECK(bytes.find("UniqueMarkerPassword42") == std::string::npos);
}

TEST_CASE("accounts set_password replaces both key sets with new salts")
{
    TempDir dir;
    auto s = open_ok(dir.file());
    REQUIRE(s.add("example.org", "alice", "old", test_iterations, t0));
    const auto before = keys_of(s, "example.org", "alice", crypto::Hash::Sha256);
    REQUIRE(s.set_password("example.org", "alice", "new", 100));
    for (auto h : {crypto::Hash::Sha1, crypto::Hash::Sha256}) {
        const auto after = keys_of(s, "example.org", "alice", h);
        CHECK(after.iterations == 100);
        CHECK(verifies(after, h, "new"));
        CHECK_FALSE(verifies(after, h, "old"));
    }
    CHECK(keys_of(s, "example.org", "alice", crypto::Hash::Sha256).salt != before.salt);

    auto missing = s.set_password("example.org", "nobody", "x", test_iterations);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == StoreErrc::NotFound);
    CHECK(missing.error().message == "no account nobody@example.org");
    CHECK(s.exists("example.org", "nobody") == false);
}

TEST_CASE("accounts record the creation time given by the caller")
{
    TempDir dir;
    auto s = open_ok(dir.file());
    REQUIRE(s.add("example.org", "alice", "pw", test_iterations, t0));
    const auto alice = s.created("example.org", "alice");
    REQUIRE(alice);
    CHECK(*alice == std::optional<sys_seconds>{t0});
    const auto bob = s.created("example.org", "bob");
    REQUIRE(bob);
    CHECK_FALSE(bob->has_value());
}

TEST_CASE("accounts add_many is all or nothing")
{
    TempDir dir;
    auto s = open_ok(dir.file());
    REQUIRE(s.add("example.org", "taken", "pw", test_iterations, t0));
    const Credentials c = make_credentials("pw", test_iterations);
    std::vector<NewAccount> batch{{"example.org", "u1", c}, {"example.org", "taken", c}, {"example.org", "u2", c}};
    auto failed = s.add_many(batch, t0);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == StoreErrc::Exists);
    CHECK(failed.error().message == "account taken@example.org already exists");
    CHECK(s.list() == std::vector<std::string>{"taken@example.org"});

    batch.erase(batch.begin() + 1);
    REQUIRE(s.add_many(batch, t0));
    CHECK(s.list() == std::vector<std::string>{"taken@example.org", "u1@example.org", "u2@example.org"});
    CHECK(verifies(keys_of(s, "example.org", "u2", crypto::Hash::Sha1), crypto::Hash::Sha1, "pw"));
    CHECK(s.add_many({}, t0));
}

TEST_CASE("accounts two connections see each other's writes")
{
    TempDir dir;
    auto a = open_ok(dir.file());
    auto b = open_ok(dir.file());
    REQUIRE(a.add("example.org", "alice", "pw", test_iterations, t0));
    CHECK(b.exists("example.org", "alice") == true);
    REQUIRE(b.set_password("example.org", "alice", "changed", test_iterations));
    CHECK(verifies(keys_of(a, "example.org", "alice", crypto::Hash::Sha256), crypto::Hash::Sha256, "changed"));
    CHECK(b.remove("example.org", "alice") == true);
    CHECK(a.exists("example.org", "alice") == false);
    CHECK(std::filesystem::exists(dir.file() + "-wal"));
}

TEST_CASE("accounts a new file opened by several threads at once gets one schema")
{
    for (int round = 0; round < 5; ++round) {
        TempDir dir;
        std::vector<std::thread> threads;
        std::atomic<int> opened{0};
        for (int i = 0; i < 4; ++i) {
            threads.emplace_back([&, i] {
                auto s = AccountStore::open(dir.file());
                if (s && s->add("example.org", "u" + std::to_string(i), "pw", 1, t0)) ++opened;
            });
        }
        for (auto& t : threads) t.join();
        CHECK(opened == 4);
        CHECK(open_ok(dir.file()).list()->size() == 4);
    }
}

TEST_CASE("accounts persist across reopening and moves")
{
    TempDir dir;
    {
        auto s = open_ok(dir.file());
        REQUIRE(s.add("example.org", "alice", "pw", test_iterations, t0));
    }
    auto reopened = open_ok(dir.file());
    AccountStore moved = std::move(reopened);
    CHECK(moved.list() == std::vector<std::string>{"alice@example.org"});
    CHECK(verifies(keys_of(moved, "example.org", "alice", crypto::Hash::Sha1), crypto::Hash::Sha1, "pw"));
    auto other = open_ok(dir.file("other.sqlite"));
    other = std::move(moved);
    CHECK(other.exists("example.org", "alice") == true);
}

TEST_CASE("accounts open reports unusable files")
{
    TempDir dir;
    auto no_dir = AccountStore::open(dir.file("missing/accounts.sqlite"));
    REQUIRE_FALSE(no_dir);
    CHECK(no_dir.error().code == StoreErrc::Database);
    CHECK(no_dir.error().message.starts_with("accounts database: cannot open " + dir.file("missing/accounts.sqlite")));

    std::ofstream{dir.file("junk")} << std::string(4096, 'x');
    auto junk = AccountStore::open(dir.file("junk"));
    REQUIRE_FALSE(junk);
    CHECK(junk.error().message.find("not a database") != std::string::npos);

    { open_ok(dir.file()); }
    set_user_version(dir.file(), 2);
    auto newer = AccountStore::open(dir.file());
    REQUIRE_FALSE(newer);
    CHECK(newer.error().message == "accounts database: schema version 2 is not supported (this build knows 1)");
}

}  // TEST_SUITE
