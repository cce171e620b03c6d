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
    CHECK(parse({"adduser", "alice@example.org"}) == Invocation{Command::AddUser, {}, "alice@example.org"});
    CHECK(parse({"passwd", "alice@example.org"}) == Invocation{Command::Passwd, {}, "alice@example.org"});
    CHECK(parse({"deluser", "alice@example.org"}) == Invocation{Command::DelUser, {}, "alice@example.org"});
    CHECK(parse({"list"}) == Invocation{Command::List, {}, ""});
    CHECK(parse({"list", "example.org"}) == Invocation{Command::List, {}, "example.org"});
}

TEST_CASE("cli takes --config before the command in both spellings")
{
    CHECK(parse({"--config", "/etc/tern.toml", "list"}) == Invocation{Command::List, "/etc/tern.toml", ""});
    CHECK(parse({"--config=t.toml", "deluser", "a@b"}) == Invocation{Command::DelUser, "t.toml", "a@b"});
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
    CHECK(parse({"list", "a", "b"}).error() == "too many arguments for list");
}

}  // TEST_SUITE
