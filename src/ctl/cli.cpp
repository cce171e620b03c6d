#include "ctl/cli.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace tern::ctl {

namespace {

struct CommandSpec {
    std::string_view name;
    Command command;
    std::size_t min_arguments;
    std::size_t max_arguments;
    std::string_view needs;  // what a missing argument is called in the error
};

constexpr std::array commands{
    CommandSpec{"adduser", Command::AddUser, 1, 1, "a JID, as in user@example.org"},
    CommandSpec{"adduser-bulk", Command::AddUserBulk, 3, 3, "PREFIX N DOMAIN, as in load 10000 example.org"},
    CommandSpec{"passwd", Command::Passwd, 1, 1, "a JID, as in user@example.org"},
    CommandSpec{"deluser", Command::DelUser, 1, 1, "a JID, as in user@example.org"},
    CommandSpec{"list", Command::List, 0, 1, ""},
};

expected<std::uint32_t, std::string> parse_count(std::string_view text)
{
    std::uint32_t count = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, count);
    if (text.empty() || ec != std::errc{} || ptr != end || count == 0 || count > max_bulk_accounts)
        return make_unexpected("N must be a number from 1 to " + std::to_string(max_bulk_accounts) + ", got '" +
                               std::string{text} + "'");
    return count;
}

}  // namespace

std::string_view usage()
{
    return "usage: ternctl [--config FILE] COMMAND\n"
           "\n"
           "commands:\n"
           "  adduser JID    create an account; the password is read from stdin (prompted twice on a terminal)\n"
           "  adduser-bulk PREFIX N DOMAIN\n"
           "                 create the accounts PREFIX1@DOMAIN .. PREFIXN@DOMAIN (for load tests), all with the\n"
           "                 one password read as for adduser; all or none are created\n"
           "  passwd JID     set a new password\n"
           "  deluser JID    delete an account\n"
           "  list [DOMAIN]  print the accounts, one bare JID per line\n"
           "\n"
           "options:\n"
           "  --config FILE  the configuration ternd uses (default: built-in, data_dir \"data\" in the current\n"
           "                 directory)\n"
           "  -h, --help     show this help\n";
}

expected<Invocation, std::string> parse_args(std::span<const std::string_view> args)
{
    Invocation invocation;
    std::size_t i = 0;
    for (; i < args.size() && args[i].starts_with('-'); ++i) {
        const std::string_view option = args[i];
        if (option == "-h" || option == "--help") return Invocation{};
        if (option == "--config") {
            if (++i == args.size()) return make_unexpected(std::string{"--config needs a file name"});
            invocation.config_path = std::string{args[i]};
        } else if (option.starts_with("--config=")) {
            invocation.config_path = std::string{option.substr(9)};
        } else {
            return make_unexpected("unknown option '" + std::string{option} + "' (see ternctl --help)");
        }
        if (invocation.config_path->empty()) return make_unexpected(std::string{"--config needs a file name"});
    }
    if (i == args.size()) return make_unexpected(std::string{"no command given (see ternctl --help)"});

    const std::string_view name = args[i++];
    const auto* spec = std::find_if(commands.begin(), commands.end(), [&](const auto& c) { return c.name == name; });
    if (spec == commands.end())
        return make_unexpected("unknown command '" + std::string{name} + "' (see ternctl --help)");
    invocation.command = spec->command;

    const std::size_t rest = args.size() - i;
    if (rest < spec->min_arguments)
        return make_unexpected("ternctl " + std::string{name} + " needs " + std::string{spec->needs});
    if (rest > spec->max_arguments) return make_unexpected("too many arguments for " + std::string{name});
    if (spec->command == Command::AddUserBulk) {
        invocation.prefix = std::string{args[i]};
        if (invocation.prefix.empty()) return make_unexpected(std::string{"adduser-bulk needs a non-empty PREFIX"});
        auto count = parse_count(args[i + 1]);
        if (!count) return make_unexpected(count.error());
        invocation.count = *count;
        invocation.argument = std::string{args[i + 2]};
    } else if (rest == 1) {
        invocation.argument = std::string{args[i]};
    }
    return invocation;
}

}  // namespace tern::ctl
