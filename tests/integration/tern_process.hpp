#pragma once

// Runs the real ternd binary for a test: a temporary directory with a TOML config, free loopback ports,
// accounts created with the real ternctl, and the server's log captured to a file.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tern::test {

// Paths of the binaries under test, passed in by meson.
std::string ternd_path();
std::string ternctl_path();

struct RunResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};

// Runs a program to completion (bounded by `timeout`), feeding `input` on stdin.
RunResult run_program(const std::vector<std::string>& argv, const std::string& input = {},
                      std::chrono::seconds timeout = std::chrono::seconds(30));

class TernProcess {
public:
    TernProcess();
    ~TernProcess();
    TernProcess(const TernProcess&) = delete;
    TernProcess& operator=(const TernProcess&) = delete;

    // Config values as TOML literals, e.g. set("limits", "auth_timeout", "2"). Call before start().
    void set(const std::string& section, const std::string& key, const std::string& toml_value);
    void add_user(const std::string& jid, const std::string& password);
    // TOML written after the [section] tables, e.g. [[services]] entries. Replaces what was set before.
    void set_extra_toml(std::string toml) { extra_toml_ = std::move(toml); }
    // Also listen for STARTTLS on [::1] (a free port, see starttls_port_v6()). Call before start().
    void listen_ipv6();

    // Writes the config, starts ternd and waits until it logs that it is ready.
    void start();
    // SIGTERM, then waits (bounded); returns the exit code, or -1 if it had to be killed.
    int stop(std::chrono::seconds timeout = std::chrono::seconds(10));
    bool running();
    void reload();  // SIGHUP
    // SIGKILL: no chance to flush, commit or close anything; waits until it is gone.
    void kill_hard();

    pid_t pid() const { return pid_; }
    std::uint16_t starttls_port() const { return starttls_port_; }
    std::uint16_t direct_tls_port() const { return direct_tls_port_; }
    std::uint16_t starttls_port_v6() const { return starttls_port_v6_; }
    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path config_path() const { return dir_ / "tern.toml"; }
    std::string log() const;
    // Waits until the log contains `needle`; false after the timeout.
    bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
    void write_config() const;

private:
    std::filesystem::path dir_;
    std::uint16_t starttls_port_;
    std::uint16_t direct_tls_port_;
    std::uint16_t starttls_port_v6_ = 0;
    std::map<std::string, std::map<std::string, std::string>> sections_;
    std::string extra_toml_;
    pid_t pid_ = -1;
};

}  // namespace tern::test
