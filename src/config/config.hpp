#pragma once

// The typed server configuration, loaded from TOML (conf/tern.toml documents every key).
// Every key is optional; the member initializers below are the defaults.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.hpp"
#include "base/ip_prefix.hpp"

namespace tern::config {

enum class LogLevel { Error, Warn, Info, Debug };
std::string_view to_string(LogLevel level);

enum class SaslMechanism { ScramSha256Plus, ScramSha256, ScramSha1Plus, ScramSha1, Plain };
std::string_view to_string(SaslMechanism mechanism);  // the IANA name, e.g. "SCRAM-SHA-256-PLUS"

// An IP literal and a port; host holds an IPv6 address without its brackets.
struct ListenAddress {
    std::string host;
    std::uint16_t port = 0;

    std::string to_string() const;  // "127.0.0.1:5222", "[::1]:5222"
    friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// Parses "a.b.c.d:port" or "[v6]:port" (port 1..65535); the error says what is wrong.
expected<ListenAddress, std::string> parse_listen_address(std::string_view text);

struct ServerConfig {
    std::vector<std::string> domains{"localhost"};  // prepared (nameprep), at least one, no duplicates
    std::filesystem::path data_dir{"data"};         // resolved against the config file's directory
    unsigned workers = 0;                           // 0 = one per core
    LogLevel log_level = LogLevel::Info;
    bool hide_version = false;  // XEP-0092: do not tell who asks which software this is

    friend bool operator==(const ServerConfig&, const ServerConfig&) = default;
};

enum class ListenerMode { StartTls, DirectTls };

// One listening socket. With proxy_protocol, connections from an address in proxy_from must start with a
// PROXY header (v1 or v2) and are counted under the client address it names; connections from any other
// address are served as direct clients, and a PROXY header from them is refused.
struct Listener {
    ListenAddress address;
    ListenerMode mode = ListenerMode::StartTls;
    bool proxy_protocol = false;
    std::vector<base::IpPrefix> proxy_from;

    bool trusted_proxy(std::string_view peer_address) const;  // proxy_protocol and peer in proxy_from
    friend bool operator==(const Listener&, const Listener&) = default;
};

struct C2sConfig {
    // Without [[c2s.listener]] tables these are the listeners (the defaults are dropped as soon as a
    // [[c2s.listener]] is given and they are not set); proxy_protocol and proxy_from apply to both lists.
    std::vector<ListenAddress> listen{{"127.0.0.1", 5222}};      // STARTTLS
    std::vector<ListenAddress> direct_tls{{"127.0.0.1", 5223}};  // XEP-0368
    bool require_tls = true;
    bool proxy_protocol = false;
    std::vector<base::IpPrefix> proxy_from;
    std::vector<Listener> listeners;  // [[c2s.listener]], in order

    // listen, then direct_tls, then listeners: every socket ternd binds.
    std::vector<Listener> all_listeners() const;
    friend bool operator==(const C2sConfig&, const C2sConfig&) = default;
};

// Empty paths (both) mean: use a self-signed certificate generated into data_dir.
struct CertificatePaths {
    std::filesystem::path certificate;
    std::filesystem::path key;

    friend bool operator==(const CertificatePaths&, const CertificatePaths&) = default;
};

struct TlsConfig {
    CertificatePaths defaults;
    std::map<std::string, CertificatePaths> domains;  // key: a prepared domain from server.domains

    friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

struct LimitsConfig {
    std::uint32_t max_stanza_bytes = 262144;
    std::uint32_t max_depth = 32;
    std::uint32_t max_attributes = 64;
    std::chrono::seconds auth_timeout{30};
    std::chrono::seconds idle_timeout{600};
    std::uint32_t max_connections_per_ip = 10000;     // all connections of one address (IPv6: one prefix)
    std::uint32_t max_unauthenticated_per_ip = 32;    // of those, not yet logged in
    std::uint32_t ipv6_prefix_length = 64;            // IPv6 addresses are counted per prefix of this length
    std::uint32_t max_auth_failures_per_minute = 5;   // answered without delay, per address and per account
    std::chrono::seconds auth_failure_max_delay{10};  // the longest a login's answer waits after failures
    // What waits for one client (outbox and XEP-0198 queue, also while detached): deliveries beyond
    // either bound bounce to their senders with resource-constraint.
    std::uint32_t max_outbox_bytes = 1048576;
    std::uint32_t max_queued_stanzas = 10000;
    // A client whose outbox stays full this long (it reads nothing) is disconnected.
    std::chrono::seconds outbox_stall_timeout{60};
    // Deliveries handed to a session's worker and not yet taken into its outbox.
    std::uint32_t max_pending_delivery_bytes = 4194304;
    std::uint32_t max_pending_deliveries = 10000;
    // Each session's inbound bytes (ejabberd's shaper): a sustained rate and a burst; 0 = unlimited.
    std::uint32_t max_inbound_bytes_per_second = 2097152;
    std::uint32_t inbound_burst_bytes = 2097152;
    std::uint32_t max_resources_per_account = 10;
    std::chrono::seconds sm_resume_timeout{300};  // XEP-0198: how long a dropped session waits to be resumed

    friend bool operator==(const LimitsConfig&, const LimitsConfig&) = default;
};

struct SaslConfig {
    std::vector<SaslMechanism> mechanisms{SaslMechanism::ScramSha256Plus, SaslMechanism::ScramSha256,
                                          SaslMechanism::ScramSha1Plus, SaslMechanism::ScramSha1,
                                          SaslMechanism::Plain};  // in order of preference
    std::uint32_t scram_iterations = 4096;
    // true: refuse SCRAM's "y" flag whenever -PLUS is offered (RFC 5802's letter); false: only where
    // tls-unique is offered (README, Security notes).
    bool strict_channel_binding_flag = false;

    friend bool operator==(const SaslConfig&, const SaslConfig&) = default;
};

enum class ServiceTransport { Udp, Tcp };
std::string_view to_string(ServiceTransport transport);  // "udp", "tcp"

// One field of a service's extended information (XEP-0215 §4: a jabber:x:data form of type result).
struct ServiceField {
    std::string var;
    std::vector<std::string> values;

    friend bool operator==(const ServiceField&, const ServiceField&) = default;
};

// An external service announced by XEP-0215 ([[services]], or one entry of the [turn] shortcut).
// Credentials come from TURN REST shared secrets (coturn's use-auth-secret), or are static.
struct ExternalService {
    std::string type;  // "stun", "turn", "turns" or another registered type (an NCName)
    std::string host;
    std::uint16_t port = 0;
    ServiceTransport transport = ServiceTransport::Udp;
    std::string name;
    std::map<std::string, std::string> names;  // lower-case language tag -> name, chosen by xml:lang
    bool restricted = false;  // credentials are required (the default whenever the service has some)
    std::vector<std::string> secrets;  // TURN REST shared secrets, newest first: the first signs
    std::chrono::seconds ttl{86400};   // lifetime of TURN REST credentials
    char separator = ':';              // between expiry and id in the username (coturn's rest-api-separator)
    bool pseudonymous = false;         // id = a keyed hash of the bare JID instead of the JID
    std::string username;              // static credentials, given as they are
    std::string password;
    bool inline_credentials = true;    // credentials also in <services/> replies, not only in <credentials/>
    std::vector<std::string> allow;    // prepared domains and bare JIDs; empty: every account of a served domain
    std::vector<ServiceField> extended;

    bool has_credentials() const { return !secrets.empty() || !username.empty(); }
    friend bool operator==(const ExternalService&, const ExternalService&) = default;
};

struct Config {
    ServerConfig server;
    C2sConfig c2s;
    TlsConfig tls;
    LimitsConfig limits;
    SaslConfig sasl;
    std::vector<ExternalService> services;  // the [turn] shortcut's entries first, then [[services]] in order

    friend bool operator==(const Config&, const Config&) = default;
};

struct ConfigError {
    std::string file;
    int line = 0;    // 0 when the error is about the whole file (e.g. it can't be read)
    int column = 0;  // set for TOML syntax errors only
    std::string key;  // dotted, e.g. "limits.max_depth" or "server.domains[1]"; empty for syntax errors
    std::string message;

    // One line: `FILE:LINE: key 'limits.max_depth': expected an integer from 4 to 256, got "x"`.
    std::string to_string() const;
};

// The configuration ternd and ternctl use without --config: all defaults, data_dir relative to the cwd.
Config default_config();

// Reads and validates a file; relative paths in it are resolved against the file's directory.
expected<Config, ConfigError> load_file(const std::string& path);

// Validates TOML text. source_name names it in errors; relative paths are resolved against base_dir
// (left relative when base_dir is empty). Files named by secret_file keys are read here.
expected<Config, ConfigError> load_string(std::string_view toml, std::string_view source_name,
                                          const std::filesystem::path& base_dir = {});

}  // namespace tern::config
