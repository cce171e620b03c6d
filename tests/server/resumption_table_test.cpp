// The table of resumable sessions: ids bound to the account that enabled resumption.
#include <doctest/doctest.h>

#include <memory>

#include "server/resumption_table.hpp"

using namespace tern;

namespace {

struct Handle {
    int n = 0;
};

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("resumption table finds an id only for the account that enabled it")
    {
        server::ResumptionTable<Handle> table;
        auto alice = std::make_shared<Handle>(Handle{1});
        table.add("id1", "alice@localhost", alice);
        CHECK(table.find("id1", "alice@localhost") == alice);
        CHECK(table.find("id1", "bob@localhost") == nullptr);
        CHECK(table.find("id2", "alice@localhost") == nullptr);
        CHECK(table.find("", "alice@localhost") == nullptr);
        CHECK(table.size() == 1);
    }

    TEST_CASE("resumption table removes an entry only for its own handle")
    {
        server::ResumptionTable<Handle> table;
        auto first = std::make_shared<Handle>(Handle{1});
        auto second = std::make_shared<Handle>(Handle{2});
        table.add("id", "alice@localhost", first);
        table.remove("id", second.get());
        CHECK(table.find("id", "alice@localhost") == first);
        table.remove("id", first.get());
        CHECK(table.find("id", "alice@localhost") == nullptr);
        CHECK(table.size() == 0);
    }
}
