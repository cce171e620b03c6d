#include "store/roster.hpp"

#include <doctest/doctest.h>

#include "temp_dir.hpp"
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>

using namespace tern;
using namespace tern::store;

namespace {

// Every TempDir here names roster.sqlite by default.
struct TempDir : test::TempDir {
    TempDir() : test::TempDir("roster.sqlite") {}
};

RosterStore open_ok(const std::string& path)
{
    auto store = RosterStore::open(path);
    if (!store) FAIL(store.error().message);
    return std::move(*store);
}

ItemUpdate update_ok(RosterStore& s, std::string_view owner, std::string_view contact, const RosterStore::Edit& edit)
{
    auto result = s.update(owner, contact, edit);
    if (!result) FAIL(result.error().message);
    return std::move(*result);
}

RosterItem listed(std::string name, std::vector<std::string> groups = {})
{
    RosterItem item;
    item.name = std::move(name);
    item.groups = std::move(groups);
    return item;
}

}  // namespace

TEST_SUITE("store")
{
TEST_CASE("roster items are stored with groups, states and requests, and read back sorted")
{
    TempDir dir;
    auto s = open_ok(dir.file());
    update_ok(s, "alice@x", "carol@x", [](auto& item) { item = listed("Carol", {"Friends", "Work & play", "<b>"}); });
    update_ok(s, "alice@x", "bob@x", [](auto& item) {
        item = listed("");
        item->state = {Subscription::From, true, false};
    });
    update_ok(s, "alice@x", "dave@x", [](auto& item) {
        item = RosterItem{};
        item->listed = false;
        item->state.pending_in = true;
        item->request = "<presence type='subscribe'/>";
    });
    update_ok(s, "bob@x", "alice@x", [](auto& item) { item = listed("Alice"); });

    auto roster = s.roster("alice@x");
    REQUIRE(roster);
    REQUIRE(roster->items.size() == 3);
    CHECK(roster->items[0].jid == "bob@x");
    CHECK(roster->items[0].state == SubscriptionState{Subscription::From, true, false});
    CHECK(roster->items[0].groups.empty());
    CHECK(roster->items[1].jid == "carol@x");
    CHECK(roster->items[1].name == "Carol");
    CHECK(roster->items[1].groups == std::vector<std::string>{"Friends", "Work & play", "<b>"});
    CHECK(roster->items[2].jid == "dave@x");
    CHECK_FALSE(roster->items[2].listed);
    CHECK(roster->items[2].state.pending_in);
    CHECK(roster->items[2].request == "<presence type='subscribe'/>");
    CHECK(s.count("alice@x") == 3u);
    CHECK(s.count("nobody@x") == 0u);
    CHECK(s.item("bob@x", "alice@x")->value().name == "Alice");
    CHECK_FALSE(s.item("bob@x", "carol@x")->has_value());
}

TEST_CASE("roster versions move on exactly with visible changes")
{
    TempDir dir;
    auto s = open_ok(dir.file());
    CHECK(s.roster("alice@x")->version == 0);

    auto added = update_ok(s, "alice@x", "bob@x", [](auto& item) { item = listed("Bob"); });
    CHECK(added.visible());
    CHECK_FALSE(added.before.has_value());
    CHECK(added.version == 1);

    // The same content again: nothing written, no new version.
    auto same = update_ok(s, "alice@x", "bob@x", [](auto& item) { item->name = "Bob"; });
    CHECK_FALSE(same.visible());
    CHECK(same.version == 1);

    // pending_in and the stored request are not part of what clients see.
    auto hidden = update_ok(s, "alice@x", "bob@x", [](auto& item) {
        item->state.pending_in = true;
        item->request = "<presence/>";
    });
    CHECK_FALSE(hidden.visible());
    CHECK(hidden.version == 1);
    CHECK(s.item("alice@x", "bob@x")->value().state.pending_in);

    auto ask = update_ok(s, "alice@x", "bob@x", [](auto& item) { item->state.pending_out = true; });
    CHECK(ask.visible());
    CHECK(ask.version == 2);

    // An unlisted item comes and goes without a version change; listing it is one.
    CHECK(update_ok(s, "alice@x", "eve@x", [](auto& item) {
              item = RosterItem{};
              item->listed = false;
          }).version == 2);
    CHECK(update_ok(s, "alice@x", "eve@x", [](auto& item) { item->listed = true; }).version == 3);

    auto removed = update_ok(s, "alice@x", "bob@x", [](auto& item) { item.reset(); });
    CHECK(removed.visible());
    CHECK(removed.version == 4);
    CHECK(removed.before->name == "Bob");
    CHECK_FALSE(removed.after.has_value());
    CHECK(s.roster("alice@x")->version == 4);
    // Other owners keep their own counters.
    CHECK(s.roster("bob@x")->version == 0);
}

TEST_CASE("roster visible_change compares what a client sees")
{
    RosterItem a = listed("A", {"g"});
    RosterItem b = a;
    CHECK_FALSE(visible_change(a, b));
    CHECK_FALSE(visible_change(std::nullopt, std::nullopt));
    b.request = "x";
    b.state.pending_in = true;
    CHECK_FALSE(visible_change(a, b));
    b.groups = {"h"};
    CHECK(visible_change(a, b));
    b = a;
    b.state.subscription = Subscription::Both;
    CHECK(visible_change(a, b));
    b = a;
    b.listed = false;
    CHECK(visible_change(a, b));
    CHECK_FALSE(visible_change(b, std::nullopt));
    CHECK(visible_change(std::nullopt, a));
}

TEST_CASE("roster update is atomic across connections")
{
    TempDir dir;
    { open_ok(dir.file()); }
    constexpr int threads = 4;
    constexpr int rounds = 25;
    std::vector<std::thread> workers;
    std::atomic<int> failures{0};
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            auto s = RosterStore::open(dir.file());
            if (!s) {
                ++failures;
                return;
            }
            for (int i = 0; i < rounds; ++i) {
                // Read-modify-write of one shared item: lost updates would show as a short count.
                auto r = s->update("alice@x", "bob@x", [](auto& item) {
                    if (!item) item = listed("");
                    item->name = std::to_string(item->name.empty() ? 1 : std::stoi(item->name) + 1);
                });
                if (!r) ++failures;
            }
        });
    }
    for (auto& w : workers) w.join();
    CHECK(failures == 0);
    auto s = open_ok(dir.file());
    CHECK(s.item("alice@x", "bob@x")->value().name == std::to_string(threads * rounds));
    CHECK(s.roster("alice@x")->version == static_cast<std::uint64_t>(threads * rounds));
}

TEST_CASE("roster remove_owner drops the items and keeps the version moving")
{
    TempDir dir;
    auto s = open_ok(dir.file());
    update_ok(s, "alice@x", "bob@x", [](auto& item) { item = listed("Bob"); });
    update_ok(s, "bob@x", "alice@x", [](auto& item) { item = listed("Alice"); });
    REQUIRE(s.remove_owner("alice@x"));
    auto roster = s.roster("alice@x");
    CHECK(roster->items.empty());
    CHECK(roster->version == 2);
    CHECK(s.count("bob@x") == 1u);
}

TEST_CASE("roster store persists across reopening and refuses other schema versions")
{
    TempDir dir;
    {
        auto s = open_ok(dir.file());
        update_ok(s, "alice@x", "bob@x", [](auto& item) { item = listed("Bob", {"G"}); });
    }
    {
        auto s = open_ok(dir.file());
        CHECK(s.item("alice@x", "bob@x")->value().groups == std::vector<std::string>{"G"});
        CHECK(s.roster("alice@x")->version == 1);
    }
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(dir.file().c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA user_version = 7", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    auto newer = RosterStore::open(dir.file());
    REQUIRE_FALSE(newer);
    CHECK(newer.error().code == StoreErrc::Database);
    CHECK(newer.error().message == "roster database: schema version 7 is not supported (this build knows 1)");
    auto missing = RosterStore::open(dir.file("missing/roster.sqlite"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.starts_with("roster database: cannot open "));
}
}  // TEST_SUITE
