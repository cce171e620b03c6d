// ternctl: account administration next to a running ternd (the account database is shared through WAL).
#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "ctl/cli.hpp"
#include "store/accounts.hpp"
#include "store/roster.hpp"
#include "xmpp/jid.hpp"
#include "xmpp/stringprep.hpp"

namespace {

using namespace tern;
using Result = expected<void, std::string>;

expected<config::Config, std::string> load_config(const ctl::Invocation& invocation)
{
    if (!invocation.config_path) return config::default_config();
    auto loaded = config::load_file(*invocation.config_path);
    if (!loaded) return make_unexpected(loaded.error().to_string());
    return std::move(*loaded);
}

std::string served_domains(const config::Config& config)
{
    std::string list;
    for (const auto& d : config.server.domains) list += (list.empty() ? "" : ", ") + d;
    return list;
}

// A bare JID with a localpart, in one of the configured domains; returned prepared.
expected<xmpp::Jid, std::string> account_jid(std::string_view text, const config::Config& config)
{
    auto jid = xmpp::Jid::parse(text);
    if (!jid) return make_unexpected("invalid JID '" + std::string{text} + "': " + std::string{to_string(jid.error())});
    if (jid->local().empty() || !jid->is_bare())
        return make_unexpected(std::string{"'"}.append(text).append("' is not an account JID (expected user@domain)"));
    const auto& domains = config.server.domains;
    if (std::find(domains.begin(), domains.end(), jid->domain()) == domains.end())
        return make_unexpected("domain '" + jid->domain() + "' is not served (server.domains: " +
                               served_domains(config) + ")");
    return std::move(*jid);
}

// data_dir is created private (0700): it holds the account keys and TLS keys.
expected<store::AccountStore, std::string> open_store(const config::Config& config)
{
    const auto& dir = config.server.data_dir;
    std::error_code ec;
    if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec || (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST))
        return make_unexpected("cannot create data_dir " + dir.string() + ": " +
                               (ec ? ec.message() : std::string{std::strerror(errno)}));
    auto store = store::AccountStore::open((dir / store::accounts_file_name).string());
    if (!store) return make_unexpected(store.error().message);
    return std::move(*store);
}

// ---- password input -----------------------------------------------------------------------------

termios saved_terminal{};

extern "C" void restore_terminal_and_reraise(int signal_number)
{
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal);
    ::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
}

// Turns terminal echo off for its lifetime, and back on if the user interrupts.
class EchoOff {
public:
    EchoOff()
    {
        if (::tcgetattr(STDIN_FILENO, &saved_terminal) != 0) return;
        termios quiet = saved_terminal;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::signal(SIGINT, restore_terminal_and_reraise);
        ::signal(SIGTERM, restore_terminal_and_reraise);
        active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    ~EchoOff()
    {
        if (active_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
        ::signal(SIGINT, SIG_DFL);
        ::signal(SIGTERM, SIG_DFL);
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

private:
    bool active_ = false;
};

std::optional<std::string> read_line()
{
    std::string line;
    if (!std::getline(std::cin, line) && line.empty()) return std::nullopt;
    if (line.ends_with('\r')) line.pop_back();
    return line;
}

std::optional<std::string> prompt_hidden(const std::string& prompt)
{
    std::cerr << prompt << std::flush;
    EchoOff echo_off;
    auto line = read_line();
    std::cerr << '\n';
    return line;
}

// The SASLprep'd password: one line from stdin, or typed twice on a terminal.
expected<std::string, std::string> read_password(const std::string& whose)
{
    std::optional<std::string> password;
    if (::isatty(STDIN_FILENO)) {
        password = prompt_hidden("Password for " + whose + ": ");
        if (password && prompt_hidden("Repeat the password: ") != password)
            return make_unexpected(std::string{"the passwords do not match"});
    } else {
        password = read_line();
    }
    if (!password) return make_unexpected(std::string{"no password given on standard input"});
    auto prepared = xmpp::saslprep(*password);
    if (!prepared) return make_unexpected(std::string{"the password contains characters SASLprep does not allow"});
    if (prepared->empty()) return make_unexpected(std::string{"empty passwords are not allowed"});
    return std::move(*prepared);
}

// ---- commands -----------------------------------------------------------------------------------

Result add_user(store::AccountStore& store, const xmpp::Jid& jid, const config::Config& config)
{
    auto exists = store.exists(jid.domain(), jid.local());
    if (!exists) return make_unexpected(exists.error().message);
    if (*exists) return make_unexpected("account " + jid.bare_str() + " already exists");
    auto password = read_password(jid.bare_str());
    if (!password) return make_unexpected(password.error());
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    auto added = store.add(jid.domain(), jid.local(), *password, config.sasl.scram_iterations, now);
    if (!added) return make_unexpected(added.error().message);
    return {};
}

// Derives each account's keys (two PBKDF2 runs, fresh salts) on all cores, then inserts all in one
// transaction.
Result add_users_bulk(store::AccountStore& store, const ctl::Invocation& invocation, const config::Config& config)
{
    std::vector<store::NewAccount> accounts;
    accounts.reserve(invocation.count);
    for (std::uint32_t i = 1; i <= invocation.count; ++i) {
        auto jid = account_jid(invocation.prefix + std::to_string(i) + "@" + invocation.argument, config);
        if (!jid) return make_unexpected(jid.error());
        auto exists = store.exists(jid->domain(), jid->local());
        if (!exists) return make_unexpected(exists.error().message);
        if (*exists) return make_unexpected("account " + jid->bare_str() + " already exists");
        accounts.push_back({jid->domain(), jid->local(), {}});
    }
    auto password = read_password(invocation.prefix + "1.." + std::to_string(invocation.count) + "@" +
                                  accounts.front().domain);
    if (!password) return make_unexpected(password.error());

    const std::size_t threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, accounts.size());
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (std::size_t i = t; i < accounts.size(); i += threads)
                accounts[i].credentials = store::make_credentials(*password, config.sasl.scram_iterations);
        });
    }
    workers.clear();  // joins

    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    auto added = store.add_many(accounts, now);
    if (!added) return make_unexpected(added.error().message);
    std::cout << "added " << accounts.size() << " accounts, " << accounts.front().local << "@" << accounts.front().domain
              << " to " << accounts.back().local << "@" << accounts.back().domain << '\n';
    return {};
}

Result set_password(store::AccountStore& store, const xmpp::Jid& jid, const config::Config& config)
{
    auto exists = store.exists(jid.domain(), jid.local());
    if (!exists) return make_unexpected(exists.error().message);
    if (!*exists) return make_unexpected("no account " + jid.bare_str());
    auto password = read_password(jid.bare_str());
    if (!password) return make_unexpected(password.error());
    auto changed = store.set_password(jid.domain(), jid.local(), *password, config.sasl.scram_iterations);
    if (!changed) return make_unexpected(changed.error().message);
    return {};
}

Result delete_user(store::AccountStore& store, const xmpp::Jid& jid, const config::Config& config)
{
    auto removed = store.remove(jid.domain(), jid.local());
    if (!removed) return make_unexpected(removed.error().message);
    if (!*removed) return make_unexpected("no account " + jid.bare_str());
    // The account's roster goes with it, so a new account of the same name starts empty.
    auto roster = store::RosterStore::open((config.server.data_dir / store::roster_file_name).string());
    if (!roster) return make_unexpected(roster.error().message);
    if (auto cleared = roster->remove_owner(jid.bare_str()); !cleared) return make_unexpected(cleared.error().message);
    return {};
}

Result list(store::AccountStore& store, std::string_view domain_text)
{
    std::optional<std::string> domain;
    if (!domain_text.empty()) {
        auto prepared = xmpp::Jid::prep_domain(domain_text);
        if (!prepared) return make_unexpected("invalid domain '" + std::string{domain_text} + "'");
        domain = std::move(*prepared);
    }
    auto jids = store.list(domain);
    if (!jids) return make_unexpected(jids.error().message);
    for (const auto& jid : *jids) std::cout << jid << '\n';
    return {};
}

Result run(const ctl::Invocation& invocation)
{
    auto config = load_config(invocation);
    if (!config) return make_unexpected(config.error());
    std::optional<xmpp::Jid> jid;
    if (invocation.command != ctl::Command::List && invocation.command != ctl::Command::AddUserBulk) {
        auto parsed = account_jid(invocation.argument, *config);
        if (!parsed) return make_unexpected(parsed.error());
        jid = std::move(*parsed);
    }
    auto store = open_store(*config);
    if (!store) return make_unexpected(store.error());
    switch (invocation.command) {
    case ctl::Command::AddUser: return add_user(*store, *jid, *config);
    case ctl::Command::AddUserBulk: return add_users_bulk(*store, invocation, *config);
    case ctl::Command::Passwd: return set_password(*store, *jid, *config);
    case ctl::Command::DelUser: return delete_user(*store, *jid, *config);
    case ctl::Command::List: return list(*store, invocation.argument);
    case ctl::Command::Help: break;
    }
    return {};
}

}  // namespace

int main(int argc, char** argv)
{
    ::umask(0077);  // the databases it creates hold account keys
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    const auto invocation = tern::ctl::parse_args(args);
    if (!invocation) {
        std::cerr << "ternctl: " << invocation.error() << '\n';
        return 1;
    }
    if (invocation->command == tern::ctl::Command::Help) {
        std::cout << tern::ctl::usage();
        return 0;
    }
    const auto result = run(*invocation);
    if (!result) {
        std::cerr << "ternctl: " << result.error() << '\n';
        return 1;
    }
    return 0;
}
