#pragma once

// ternctl's command line, parsed without side effects so it can be tested.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/expected.hpp"

namespace tern::ctl {

enum class Command { Help, AddUser, AddUserBulk, Passwd, DelUser, List };

// Most accounts one adduser-bulk call creates.
inline constexpr std::uint32_t max_bulk_accounts = 1'000'000;

struct Invocation {
    Command command = Command::Help;
    std::optional<std::string> config_path{};  // --config FILE; the embedded default when absent
    // The JID (adduser/passwd/deluser), or the domain (list, optional; adduser-bulk).
    std::string argument{};
    // adduser-bulk: the accounts prefix + "1" .. prefix + count.
    std::string prefix{};
    std::uint32_t count = 0;

    friend bool operator==(const Invocation&, const Invocation&) = default;
};

// args excludes the program name. The error is one line for the user.
expected<Invocation, std::string> parse_args(std::span<const std::string_view> args);

std::string_view usage();

}  // namespace tern::ctl
