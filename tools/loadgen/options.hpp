#pragma once

// tern-loadgen's command line, parsed without side effects (tested in tests/tools).
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/expected.hpp"
#include "crypto/crypto.hpp"

namespace tern::loadgen {

enum class Scenario {
    Idle,   // log N sessions in at a rate, hold them, measure the server's memory per session
    Login,  // connect, log in, bind, disconnect, N times with C in flight: rate and latency
    Message,  // P pairs of bound sessions exchange chat messages: routed throughput and end-to-end latency
    Extdisco,   // C bound sessions keep W XEP-0215 <services/> requests in flight: IQs per second, latency
    Handshake,  // connect, direct-TLS handshake, close, COUNT times: the TLS library's limit for logins
    Mixed,      // N bound sessions, a target rate of messages, pings, presence and extdisco IQs (soak runs)
};

enum class Transport {
    StartTls,   // plaintext stream, <starttls/>, TLS
    DirectTls,  // TLS from the first byte (XEP-0368)
    Plain,      // no TLS at all (needs c2s.require_tls = false on the server; for comparisons only)
};

// IPv4 addresses first..last (host order), inclusive. Client sockets are bound to them in turn, so many
// connections to one server port don't run out of (source address, port) pairs.
struct AddressRange {
    std::uint32_t first = 0;
    std::uint32_t last = 0;

    std::uint64_t size() const { return std::uint64_t{last} - first + 1; }
    // The i-th address, wrapping around.
    std::uint32_t at(std::uint64_t i) const { return static_cast<std::uint32_t>(first + i % size()); }

    friend bool operator==(const AddressRange&, const AddressRange&) = default;
};

std::string_view scenario_name(Scenario scenario);

// "A.B.C.D-E.F.G.H" or a single address.
expected<AddressRange, std::string> parse_address_range(std::string_view text);
std::optional<std::uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(std::uint32_t address);

struct Options {
    Scenario scenario = Scenario::Idle;
    std::string host = "127.0.0.1";
    std::uint16_t port = 5222;
    Transport transport = Transport::StartTls;
    std::string user_prefix;        // accounts are user_prefix + first .. user_prefix + (first + accounts - 1)
    std::uint32_t first = 1;        // number of the first account (several generators split the accounts)
    std::string password;
    std::string domain = "localhost";
    std::uint32_t count = 0;        // idle, mixed: sessions; login, handshake: cycles; message: 2 * pairs;
                                    // extdisco: connections
    std::uint32_t accounts = 0;     // login: accounts cycled through (default: count); idle, message: = count
    double connect_rate = 0;        // new connections per second; 0 = as fast as concurrency allows
    std::uint32_t concurrency = 200;  // logins in flight at once
    std::chrono::milliseconds hold{0};          // idle: how long the bound sessions are held
    std::chrono::milliseconds settle{2000};     // idle: quiet time before the "after" memory sample
    std::chrono::milliseconds step_timeout{20000};  // bound on every single wait for the server
    std::chrono::milliseconds deadline{0};      // whole run; 0 = derived from the other values
    // message: sessions 2k-1 and 2k (accounts PREFIX(2k-1), PREFIX(2k)) are a pair and write to each other.
    std::uint32_t pairs = 0;
    std::chrono::milliseconds duration{10000};  // message, extdisco, mixed: how long the senders send
    std::chrono::milliseconds drain{2000};      // message, extdisco, mixed: bound on the wait for stragglers
    double message_rate = 0;        // message: total messages per second over all senders; 0 = window-bound;
                                    // mixed: total events per second (default 100)
    std::uint32_t window = 1;       // message: messages in flight per sender (default 1; with --rate 100);
                                    // extdisco: requests in flight per connection (default 1)
    std::uint32_t body_bytes = 100; // message, mixed: size of each <body/>
    std::string service_type;       // extdisco: <services type='...'/> when not empty
    std::string credentials_host;   // extdisco: ask for <credentials/> of this host's service instead
    std::chrono::milliseconds interval{60000};  // mixed: one report per interval
    std::optional<int> server_pid;
    std::optional<AddressRange> sources;  // default: 127.0.0.1-127.0.255.254 when host is in 127.0.0.0/8
    std::string mechanism = "SCRAM-SHA-1";
    bool json_only = false;
    bool scram_cache = true;        // keep each account's SCRAM keys between its logins (--no-scram-cache: don't)

    crypto::Hash hash() const;
    bool channel_binding() const { return mechanism.ends_with("-PLUS"); }
    // The name of account i (0-based) of this run: user_prefix + (first + i).
    std::string account(std::uint32_t i) const { return user_prefix + std::to_string(std::uint64_t{first} + i); }
    // The run's overall bound: `deadline`, or the time the run should take plus two minutes.
    std::chrono::milliseconds effective_deadline() const;
};

// args excludes the program name; the first argument is the scenario. The error is one line.
// Returns nullopt for --help.
expected<std::optional<Options>, std::string> parse_options(std::span<const std::string_view> args);

std::string_view usage();

}  // namespace tern::loadgen
