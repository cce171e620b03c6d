#pragma once

// ternctl's command line, parsed without side effects so it can be tested.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/expected.hpp"

namespace tern::ctl {

enum class Command { Help, AddUser, Passwd, DelUser, List };

struct Invocation {
    Command command = Command::Help;
    std::optional<std::string> config_path;  // --config FILE; the embedded default when absent
    std::string argument;                    // the JID (adduser/passwd/deluser) or domain (list, optional)

    friend bool operator==(const Invocation&, const Invocation&) = default;
};

// args excludes the program name. The error is one line for the user.
expected<Invocation, std::string> parse_args(std::span<const std::string_view> args);

std::string_view usage();

}  // namespace tern::ctl
