#include "ctl/cli.hpp"

#include <algorithm>
#include <array>

namespace tern::ctl {

namespace {

struct CommandSpec {
    std::string_view name;
    Command command;
    bool argument_required;
};

constexpr std::array commands{
    CommandSpec{"adduser", Command::AddUser, true},
    CommandSpec{"passwd", Command::Passwd, true},
    CommandSpec{"deluser", Command::DelUser, true},
    CommandSpec{"list", Command::List, false},
};

}  // namespace

std::string_view usage()
{
    return "usage: ternctl [--config FILE] COMMAND\n"
           "\n"
           "commands:\n"
           "  adduser JID    create an account; the password is read from stdin (prompted twice on a terminal)\n"
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
    if (spec->argument_required && rest == 0)
        return make_unexpected("ternctl " + std::string{name} + " needs a JID, as in user@example.org");
    if (rest > 1) return make_unexpected("too many arguments for " + std::string{name});
    if (rest == 1) invocation.argument = std::string{args[i]};
    return invocation;
}

}  // namespace tern::ctl
