#include "ctl/cli.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace tern::ctl;

namespace {

tern::expected<Invocation, std::string> parse(std::vector<std::string_view> args)
{
    return parse_args(args);
}

}  // namespace

TEST_SUITE("ctl") {

TEST_CASE("cli parses each command with its argument")
{
    CHECK(parse({"adduser", "alice@example.org"}) ==
          Invocation{.command = Command::AddUser, .argument = "alice@example.org"});
    CHECK(parse({"passwd", "alice@example.org"}) ==
          Invocation{.command = Command::Passwd, .argument = "alice@example.org"});
    CHECK(parse({"deluser", "alice@example.org"}) ==
          Invocation{.command = Command::DelUser, .argument = "alice@example.org"});
    CHECK(parse({"list"}) == Invocation{.command = Command::List});
    CHECK(parse({"list", "example.org"}) == Invocation{.command = Command::List, .argument = "example.org"});
}

TEST_CASE("cli parses adduser-bulk's prefix, count and domain")
{
    CHECK(parse({"adduser-bulk", "load", "10000", "localhost"}) ==
          Invocation{.command = Command::AddUserBulk, .argument = "localhost", .prefix = "load", .count = 10000});
    CHECK(parse({"adduser-bulk", "u", "1", "example.org"})->count == 1);
    CHECK(parse({"adduser-bulk", "u", "1000000", "example.org"})->count == max_bulk_accounts);
    for (const std::string_view bad : {"0", "1000001", "-1", "10k", "", " 5", "99999999999"}) {
        CAPTURE(bad);
        CHECK(parse({"adduser-bulk", "u", bad, "example.org"}).error() ==
              "N must be a number from 1 to 1000000, got '" + std::string{bad} + "'");
    }
    CHECK(parse({"adduser-bulk", "", "5", "example.org"}).error() == "adduser-bulk needs a non-empty PREFIX");
}

TEST_CASE("cli takes --config before the command in both spellings")
{
    CHECK(parse({"--config", "/etc/tern.toml", "list"}) ==
          Invocation{.command = Command::List, .config_path = "/etc/tern.toml"});
    CHECK(parse({"--config=t.toml", "deluser", "a@b"}) ==
          Invocation{.command = Command::DelUser, .config_path = "t.toml", .argument = "a@b"});
    CHECK(parse({"--config", "t.toml"}).error() == "no command given (see ternctl --help)");
    CHECK(parse({"--config"}).error() == "--config needs a file name");
    CHECK(parse({"--config="}).error() == "--config needs a file name");
}

TEST_CASE("cli help wins over everything else")
{
    CHECK(parse({"--help"})->command == Command::Help);
    CHECK(parse({"-h", "adduser"})->command == Command::Help);
    CHECK(parse({"--config", "x", "--help"})->command == Command::Help);
    CHECK(usage().starts_with("usage: ternctl [--config FILE] COMMAND\n"));
}

TEST_CASE("cli rejects bad command lines with one line each")
{
    CHECK(parse({}).error() == "no command given (see ternctl --help)");
    CHECK(parse({"addusr", "a@b"}).error() == "unknown command 'addusr' (see ternctl --help)");
    CHECK(parse({"--verbose", "list"}).error() == "unknown option '--verbose' (see ternctl --help)");
    CHECK(parse({"adduser"}).error() == "ternctl adduser needs a JID, as in user@example.org");
    CHECK(parse({"passwd"}).error() == "ternctl passwd needs a JID, as in user@example.org");
    CHECK(parse({"deluser"}).error() == "ternctl deluser needs a JID, as in user@example.org");
    CHECK(parse({"adduser", "a@b", "c@d"}).error() == "too many arguments for adduser");
    CHECK(parse({"adduser-bulk", "load", "10"}).error() ==
          "ternctl adduser-bulk needs PREFIX N DOMAIN, as in load 10000 example.org");
    CHECK(parse({"adduser-bulk", "load", "10", "a", "b"}).error() == "too many arguments for adduser-bulk");
    CHECK(parse({"list", "a", "b"}).error() == "too many arguments for list");
}

}  // TEST_SUITE
