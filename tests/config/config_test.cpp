#include "config/config.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace tern::config;
using namespace std::chrono_literals;

namespace {

ConfigError error_of(std::string_view toml)
{
    auto result = load_string(toml, "t.toml");
    REQUIRE_FALSE(result.has_value());
    return result.error();
}

std::string message_of(std::string_view toml)
{
    return error_of(toml).to_string();
}

Config loaded(std::string_view toml, const std::filesystem::path& base_dir = {})
{
    auto result = load_string(toml, "t.toml", base_dir);
    if (!result) FAIL(result.error().to_string());
    return *result;
}

}  // namespace

TEST_SUITE("config") {

TEST_CASE("config defaults are what an operator expects")
{
    const Config c = default_config();
    CHECK(c.server.domains == std::vector<std::string>{"localhost"});
    CHECK(c.server.data_dir == "data");
    CHECK(c.server.workers == 0);
    CHECK(c.server.log_level == LogLevel::Info);
    CHECK(c.c2s.listen == std::vector<ListenAddress>{{"127.0.0.1", 5222}});
    CHECK(c.c2s.direct_tls == std::vector<ListenAddress>{{"127.0.0.1", 5223}});
    CHECK(c.c2s.require_tls);
    CHECK_FALSE(c.c2s.proxy_protocol);
    CHECK(c.c2s.proxy_from.empty());
    CHECK(c.c2s.listeners.empty());
    CHECK(c.tls.defaults.certificate.empty());
    CHECK(c.tls.defaults.key.empty());
    CHECK(c.tls.domains.empty());
    CHECK(c.limits.max_stanza_bytes == 262144);
    CHECK(c.limits.max_depth == 32);
    CHECK(c.limits.max_attributes == 64);
    CHECK(c.limits.auth_timeout == 30s);
    CHECK(c.limits.idle_timeout == 600s);
    CHECK(c.limits.max_connections_per_ip == 10000);
    CHECK(c.limits.max_unauthenticated_per_ip == 32);
    CHECK(c.limits.ipv6_prefix_length == 64);
    CHECK(c.limits.max_auth_failures_per_minute == 5);
    CHECK(c.limits.auth_failure_max_delay == 10s);
    CHECK(c.limits.max_outbox_bytes == 1048576);
    CHECK(c.limits.max_queued_stanzas == 10000);
    CHECK(c.limits.outbox_stall_timeout == 60s);
    CHECK(c.limits.max_pending_delivery_bytes == 4194304);
    CHECK(c.limits.max_pending_deliveries == 10000);
    CHECK(c.limits.max_inbound_bytes_per_second == 2097152);
    CHECK(c.limits.inbound_burst_bytes == 2097152);
    CHECK(c.limits.max_resources_per_account == 10);
    CHECK(c.limits.sm_resume_timeout == 300s);
    CHECK(c.sasl.mechanisms == std::vector<SaslMechanism>{SaslMechanism::ScramSha256Plus, SaslMechanism::ScramSha256,
                                                          SaslMechanism::ScramSha1Plus, SaslMechanism::ScramSha1,
                                                          SaslMechanism::Plain});
    CHECK(c.sasl.scram_iterations == 4096);
    CHECK_FALSE(c.sasl.strict_channel_binding_flag);
    CHECK(c.services.empty());
}

TEST_CASE("config from an empty document equals the embedded default")
{
    CHECK(loaded("") == default_config());
    CHECK(loaded("[server]\n[c2s]\n[tls]\n[limits]\n[sasl]\n") == default_config());
}

TEST_CASE("config sample file loads and documents the defaults")
{
    const std::string sample = TERN_SAMPLE_CONFIG;
    auto result = load_file(sample);
    if (!result) FAIL(result.error().to_string());
    Config expected = default_config();
    expected.server.data_dir = std::filesystem::path{sample}.parent_path() / "data";
    CHECK(*result == expected);
}

TEST_CASE("config reads every key")
{
    const Config c = loaded(R"(
[server]
domains = ["Example.ORG", "chat.example.net"]
data_dir = "/var/lib/tern"
workers = 4
log_level = "debug"
hide_version = true
[c2s]
listen = ["0.0.0.0:5222", "[::]:5222"]
direct_tls = []
require_tls = false
proxy_protocol = true
proxy_from = ["10.0.0.0/8", "2001:db8::/32"]
[[c2s.listener]]
address = "192.0.2.1:5222"
proxy_protocol = true
proxy_from = ["192.0.2.10"]
[[c2s.listener]]
address = "[2001:db8::1]:5223"
mode = "direct_tls"
[tls]
certificate = "/etc/tern/cert.pem"
key = "/etc/tern/key.pem"
[tls.domains."chat.example.net"]
certificate = "/etc/tern/chat.pem"
key = "/etc/tern/chat.key"
[limits]
max_stanza_bytes = 4096
max_depth = 256
max_attributes = 1
auth_timeout = 3600
idle_timeout = 10
max_connections_per_ip = 1000000
max_unauthenticated_per_ip = 100000
ipv6_prefix_length = 48
max_auth_failures_per_minute = 1000
auth_failure_max_delay = 60
max_outbox_bytes = 268435456
max_queued_stanzas = 16
outbox_stall_timeout = 3600
max_pending_delivery_bytes = 65536
max_pending_deliveries = 1000000
max_inbound_bytes_per_second = 0
inbound_burst_bytes = 4096
max_resources_per_account = 1
sm_resume_timeout = 86400
[sasl]
mechanisms = ["SCRAM-SHA-1", "PLAIN"]
scram_iterations = 1000000
strict_channel_binding_flag = true
)");
    CHECK(c.server.domains == std::vector<std::string>{"example.org", "chat.example.net"});
    CHECK(c.server.data_dir == "/var/lib/tern");
    CHECK(c.server.workers == 4);
    CHECK(c.server.log_level == LogLevel::Debug);
    CHECK(c.server.hide_version);
    CHECK(c.c2s.listen == std::vector<ListenAddress>{{"0.0.0.0", 5222}, {"::", 5222}});
    CHECK(c.c2s.direct_tls.empty());
    CHECK_FALSE(c.c2s.require_tls);
    CHECK(c.c2s.proxy_protocol);
    CHECK(c.c2s.proxy_from == std::vector<tern::base::IpPrefix>{*tern::base::parse_ip_prefix("10.0.0.0/8"),
                                                                *tern::base::parse_ip_prefix("2001:db8::/32")});
    REQUIRE(c.c2s.listeners.size() == 2);
    CHECK(c.c2s.listeners[0].address == ListenAddress{"192.0.2.1", 5222});
    CHECK(c.c2s.listeners[0].mode == ListenerMode::StartTls);
    CHECK(c.c2s.listeners[0].proxy_protocol);
    CHECK(c.c2s.listeners[0].proxy_from == std::vector<tern::base::IpPrefix>{*tern::base::parse_ip_prefix("192.0.2.10")});
    CHECK(c.c2s.listeners[1].address == ListenAddress{"2001:db8::1", 5223});
    CHECK(c.c2s.listeners[1].mode == ListenerMode::DirectTls);
    CHECK_FALSE(c.c2s.listeners[1].proxy_protocol);
    CHECK(c.c2s.all_listeners().size() == 4);
    CHECK(c.tls.defaults == CertificatePaths{"/etc/tern/cert.pem", "/etc/tern/key.pem"});
    REQUIRE(c.tls.domains.size() == 1);
    CHECK(c.tls.domains.at("chat.example.net") == CertificatePaths{"/etc/tern/chat.pem", "/etc/tern/chat.key"});
    CHECK(c.limits.max_stanza_bytes == 4096);
    CHECK(c.limits.max_depth == 256);
    CHECK(c.limits.max_attributes == 1);
    CHECK(c.limits.auth_timeout == 3600s);
    CHECK(c.limits.idle_timeout == 10s);
    CHECK(c.limits.max_connections_per_ip == 1000000);
    CHECK(c.limits.max_unauthenticated_per_ip == 100000);
    CHECK(c.limits.ipv6_prefix_length == 48);
    CHECK(c.limits.auth_failure_max_delay == 60s);
    CHECK(c.limits.max_auth_failures_per_minute == 1000);
    CHECK(c.limits.max_outbox_bytes == 268435456);
    CHECK(c.limits.max_queued_stanzas == 16);
    CHECK(c.limits.outbox_stall_timeout == 3600s);
    CHECK(c.limits.max_pending_delivery_bytes == 65536);
    CHECK(c.limits.max_pending_deliveries == 1000000);
    CHECK(c.limits.max_inbound_bytes_per_second == 0);
    CHECK(c.limits.inbound_burst_bytes == 4096);
    CHECK(c.limits.max_resources_per_account == 1);
    CHECK(c.limits.sm_resume_timeout == 86400s);
    CHECK(c.sasl.mechanisms == std::vector<SaslMechanism>{SaslMechanism::ScramSha1, SaslMechanism::Plain});
    CHECK(c.sasl.scram_iterations == 1000000);
    CHECK(c.sasl.strict_channel_binding_flag);
}

TEST_CASE("config error names file, line and key in one line")
{
    CHECK(message_of("# comment\n[limits]\nmax_depth = \"x\"\n") ==
          "t.toml:3: key 'limits.max_depth': expected an integer from 4 to 256, got \"x\"");
    CHECK(message_of("[limits]\nauth_timeout = 0\n") ==
          "t.toml:2: key 'limits.auth_timeout': expected a number of seconds from 1 to 3600, got 0");
    CHECK(message_of("[c2s]\nrequire_tls = \"yes\"\n") ==
          "t.toml:2: key 'c2s.require_tls': expected true or false, got \"yes\"");
    CHECK(message_of("[server]\nlog_level = \"verbose\"\n") ==
          "t.toml:2: key 'server.log_level': expected one of \"error\", \"warn\", \"info\", \"debug\", got "
          "\"verbose\"");
    CHECK(message_of("[server]\ndata_dir = 5\n") ==
          "t.toml:2: key 'server.data_dir': expected a non-empty path, got 5");
    CHECK(message_of("[server]\ndata_dir = \"\"\n") ==
          "t.toml:2: key 'server.data_dir': expected a non-empty path, got \"\"");
    CHECK(message_of("[tls]\ncertificate = 5\n") ==
          "t.toml:2: key 'tls.certificate': expected a path (a string), got 5");
}

TEST_CASE("config rejects each integer key's wrong type and both ends of its range")
{
    struct Case {
        const char* section;
        const char* key;
        long long min;
        long long max;
    };
    const Case cases[] = {
        {"server", "workers", 0, 256},
        {"limits", "max_stanza_bytes", 4096, 16 << 20},
        {"limits", "max_depth", 4, 256},
        {"limits", "max_attributes", 1, 1024},
        {"limits", "auth_timeout", 1, 3600},
        {"limits", "idle_timeout", 10, 86400},
        {"limits", "max_connections_per_ip", 1, 1000000},
        {"limits", "max_unauthenticated_per_ip", 1, 100000},
        {"limits", "ipv6_prefix_length", 32, 128},
        {"limits", "max_auth_failures_per_minute", 1, 1000},
        {"limits", "auth_failure_max_delay", 1, 60},
        {"limits", "max_outbox_bytes", 65536, 256 << 20},
        {"limits", "max_queued_stanzas", 16, 1000000},
        {"limits", "outbox_stall_timeout", 1, 3600},
        {"limits", "max_pending_delivery_bytes", 65536, 256 << 20},
        {"limits", "max_pending_deliveries", 16, 1000000},
        {"limits", "max_inbound_bytes_per_second", 0, 1 << 30},
        {"limits", "inbound_burst_bytes", 4096, 1 << 30},
        {"limits", "max_resources_per_account", 1, 1000},
        {"limits", "sm_resume_timeout", 1, 86400},
        {"sasl", "scram_iterations", 4096, 1000000},
    };
    for (const auto& c : cases) {
        const std::string dotted = std::string{c.section} + '.' + c.key;
        for (const std::string& value : {std::to_string(c.min - 1), std::to_string(c.max + 1), std::string{"\"5\""},
                                        std::string{"1.5"}, std::string{"true"}, std::string{"[1]"}}) {
            CAPTURE(dotted);
            CAPTURE(value);
            const ConfigError e = error_of("\n[" + std::string{c.section} + "]\n" + c.key + " = " + value + "\n");
            CHECK(e.file == "t.toml");
            CHECK(e.line == 3);
            CHECK(e.key == dotted);
            const bool seconds = dotted.ends_with("timeout") || dotted.ends_with("delay");
            const std::string expected = std::string{seconds ? "expected a number of seconds" : "expected an integer"} +
                                         " from " + std::to_string(c.min) + " to " + std::to_string(c.max) + ", got " +
                                         (value == "[1]" ? "an array" : value);
            CHECK(e.message == expected);
        }
        for (long long bound : {c.min, c.max}) {
            auto ok = load_string("[" + std::string{c.section} + "]\n" + c.key + " = " + std::to_string(bound), "t");
            CHECK_MESSAGE(ok.has_value(), dotted, " = ", bound);
        }
    }
}

TEST_CASE("config rejects a wrong type for each non-integer key")
{
    const std::pair<const char*, const char*> cases[] = {
        {"[server]\ndomains = \"localhost\"", "server.domains"},
        {"[server]\ndata_dir = false", "server.data_dir"},
        {"[server]\nlog_level = 1", "server.log_level"},
        {"[c2s]\nlisten = \"127.0.0.1:5222\"", "c2s.listen"},
        {"[c2s]\ndirect_tls = 5223", "c2s.direct_tls"},
        {"[c2s]\nrequire_tls = 1", "c2s.require_tls"},
        {"[c2s]\nproxy_protocol = \"false\"", "c2s.proxy_protocol"},
        {"[tls]\ncertificate = []", "tls.certificate"},
        {"[tls]\nkey = 1", "tls.key"},
        {"[tls]\ndomains = 1", "tls.domains"},
        {"[sasl]\nmechanisms = \"PLAIN\"", "sasl.mechanisms"},
        {"server = 1", "server"},
        {"limits = \"none\"", "limits"},
    };
    for (const auto& [toml, key] : cases) {
        CAPTURE(toml);
        const ConfigError e = error_of(toml);
        CHECK(e.key == key);
        CHECK(e.line == (std::string_view{toml}.find('\n') == std::string_view::npos ? 1 : 2));
        CHECK(e.message.starts_with("expected "));
    }
}

TEST_CASE("config rejects unknown sections and keys on their own line")
{
    CHECK(message_of("[server]\n\n[serverr]\nworkers = 1\n") ==
          "t.toml:3: key 'serverr': unknown section (expected one of: server, c2s, tls, limits, sasl, services, turn)");
    CHECK(message_of("[server]\nworkers = 1\nworker = 2\n") ==
          "t.toml:3: key 'server.worker': unknown key (expected one of: domains, data_dir, workers, log_level, hide_version)");
    CHECK(message_of("debug = true\n") ==
          "t.toml:1: key 'debug': unknown key (expected one of: server, c2s, tls, limits, sasl, services, turn)");
    CHECK(error_of("[limits.extra]\nx = 1\n").key == "limits.extra");
    CHECK(error_of("[tls.domains.\"localhost\"]\ncertificate = \"c\"\nkey = \"k\"\nca = \"x\"\n").key ==
          "tls.domains.localhost.ca");
    CHECK(error_of("[server]\ndomains = [\"a.org\"]\n[tls.domains.\"a.org\"]\ncertificate = \"c\"\nkey = \"k\"\nca = 1\n")
              .key == "tls.domains.\"a.org\".ca");
}

TEST_CASE("config reports a TOML syntax error with line and column")
{
    const ConfigError e = error_of("[server]\nworkers = = 2\n");
    CHECK(e.line == 2);
    CHECK(e.column > 0);
    CHECK(e.key.empty());
    CHECK_FALSE(e.message.empty());
    CHECK(e.to_string().starts_with("t.toml:2:" + std::to_string(e.column) + ": "));
    CHECK(error_of("[server]\nworkers = 1\nworkers = 2\n").line == 3);
}

TEST_CASE("config reports the error that comes first in the file")
{
    const ConfigError e = error_of("[sasl]\nscram_iterations = 1\n[limits]\nmax_depth = 1\n[c2s]\nbogus = 1\n");
    CHECK(e.line == 2);
    CHECK(e.key == "sasl.scram_iterations");
}

TEST_CASE("config prepares domains and refuses invalid or duplicate ones")
{
    CHECK(loaded("[server]\ndomains = [\"EXAMPLE.Com\"]").server.domains == std::vector<std::string>{"example.com"});
    CHECK(message_of("[server]\ndomains = [\"example.org\",\n  \"Example.ORG\"]\n") ==
          "t.toml:3: key 'server.domains[1]': domain \"example.org\" is listed twice");
    CHECK(message_of("[server]\ndomains = []\n") ==
          "t.toml:2: key 'server.domains': expected a non-empty array of domain names, got an array");
    CHECK(message_of("[server]\ndomains = [\"a b\"]\n") ==
          "t.toml:2: key 'server.domains[0]': expected a domain name, got \"a b\"");
    CHECK(error_of("[server]\ndomains = [\"ok.org\", 7]\n").key == "server.domains[1]");
    CHECK(error_of("[server]\ndomains = [\"\"]\n").key == "server.domains[0]");
}

TEST_CASE("config tls per-domain certificates must name a served domain and give both files")
{
    CHECK(message_of("[server]\ndomains = [\"a.org\"]\n[tls.domains.\"b.org\"]\ncertificate = \"c\"\nkey = \"k\"\n") ==
          "t.toml:3: key 'tls.domains.\"b.org\"': domain \"b.org\" is not in server.domains");
    CHECK(message_of("[tls.domains.localhost]\ncertificate = \"c\"\n") ==
          "t.toml:1: key 'tls.domains.localhost': expected both certificate and key for a domain");
    CHECK(message_of("[tls]\ncertificate = \"c.pem\"\n") ==
          "t.toml:2: key 'tls.certificate': expected tls.key as well (certificate and key go together)");
    CHECK(message_of("[tls]\nkey = \"k.pem\"\n") ==
          "t.toml:2: key 'tls.key': expected tls.certificate as well (certificate and key go together)");
    const Config c = loaded("[server]\ndomains = [\"A.org\"]\n[tls.domains.\"a.ORG\"]\ncertificate = \"c\"\nkey = \"k\"\n");
    CHECK(c.tls.domains.contains("a.org"));
}

TEST_CASE("config resolves relative paths against the config file's directory")
{
    const Config c = loaded(R"(
[server]
domains = ["a.org"]
data_dir = "state"
[tls]
certificate = "certs/c.pem"
key = "/abs/k.pem"
[tls.domains."a.org"]
certificate = "a.pem"
key = "a.key"
)",
                            "/etc/tern");
    CHECK(c.server.data_dir == "/etc/tern/state");
    CHECK(c.tls.defaults.certificate == "/etc/tern/certs/c.pem");
    CHECK(c.tls.defaults.key == "/abs/k.pem");
    CHECK(c.tls.domains.at("a.org") == CertificatePaths{"/etc/tern/a.pem", "/etc/tern/a.key"});
    CHECK(loaded("", "/etc/tern").server.data_dir == "/etc/tern/data");
    CHECK(loaded("", "").server.data_dir == "data");
}

TEST_CASE("config load_file reads a file and reports an unreadable one")
{
    const auto dir = std::filesystem::temp_directory_path() / "tern_config_test";
    std::filesystem::create_directories(dir);
    const auto file = dir / "t.toml";
    std::ofstream{file} << "[server]\nworkers = 2\n[limits]\nmax_depth = 2\n";
    auto bad = load_file(file.string());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().to_string() == file.string() + ":4: key 'limits.max_depth': expected an integer from 4 to 256, got 2");
    std::ofstream{file} << "[server]\nworkers = 2\n";
    auto good = load_file(file.string());
    REQUIRE(good);
    CHECK(good->server.workers == 2);
    CHECK(good->server.data_dir == dir / "data");
    std::filesystem::remove_all(dir);

    auto missing = load_file((dir / "none.toml").string());
    REQUIRE_FALSE(missing);
    CHECK(missing.error().line == 0);
    CHECK(missing.error().to_string() == (dir / "none.toml").string() + ": cannot read: No such file or directory");
}

TEST_CASE("config parses listen addresses")
{
    CHECK(parse_listen_address("127.0.0.1:5222") == ListenAddress{"127.0.0.1", 5222});
    CHECK(parse_listen_address("0.0.0.0:1") == ListenAddress{"0.0.0.0", 1});
    CHECK(parse_listen_address("[::1]:65535") == ListenAddress{"::1", 65535});
    CHECK(parse_listen_address("[2001:db8::7]:5223") == ListenAddress{"2001:db8::7", 5223});
    CHECK(ListenAddress{"::1", 5222}.to_string() == "[::1]:5222");
    CHECK(ListenAddress{"10.0.0.1", 5222}.to_string() == "10.0.0.1:5222");

    for (const char* bad_port : {"127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", "127.0.0.1:52a", "127.0.0.1:+52",
                                 "127.0.0.1:005222", "[::1]:0", "[::1]:", "127.0.0.1: 5222"}) {
        CAPTURE(bad_port);
        auto r = parse_listen_address(bad_port);
        REQUIRE_FALSE(r);
        CHECK(r.error() == "expected a port from 1 to 65535");
    }
    for (const char* bad : {"", "5222", "localhost:5222", "256.0.0.1:5222", "1.2.3:5222", "::1:5222", "[::1]5222",
                            "[::1:5222", "[127.0.0.1]:5222", "[]:5222", "[fe80::1%eth0]:5222"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_listen_address(bad));
    }
    CHECK(parse_listen_address("::1:5222").error() == "expected an IPv6 address in brackets, as \"[::1]:5222\"");
}

TEST_CASE("config reports a bad listen address with its element and line")
{
    CHECK(message_of("[c2s]\nlisten = [\"127.0.0.1:5222\",\n  \"127.0.0.1:70000\"]\n") ==
          "t.toml:3: key 'c2s.listen[1]': expected a port from 1 to 65535, got \"127.0.0.1:70000\"");
    CHECK(message_of("[c2s]\ndirect_tls = [5223]\n") ==
          "t.toml:2: key 'c2s.direct_tls[0]': expected \"IP:port\" or \"[IPv6]:port\", got 5223");
}

TEST_CASE("config needs a listener and refuses the same address twice")
{
    CHECK(message_of("[c2s]\nlisten = []\ndirect_tls = []\n") ==
          "t.toml:2: key 'c2s.listen': no listener: c2s.listen, c2s.direct_tls and c2s.listener are all empty");
    CHECK(loaded("[c2s]\nlisten = []\n").c2s.direct_tls.size() == 1);
    CHECK(message_of("[c2s]\nlisten = [\"127.0.0.1:5223\"]\n") ==
          "t.toml:2: key 'c2s.listen[0]': address 127.0.0.1:5223 is listed twice (in c2s.listen[0] and "
          "c2s.direct_tls[0])");
    CHECK(error_of("[c2s]\nlisten = [\"[::1]:5222\",\n\"[::1]:5222\"]\n").key == "c2s.listen[1]");
}

TEST_CASE("config [[c2s.listener]] tables: their own proxy settings, and they replace the default listeners")
{
    const Config c = loaded("[[c2s.listener]]\naddress = \"0.0.0.0:5222\"\nproxy_protocol = true\n"
                            "proxy_from = [\"10.0.0.0/8\"]\n");
    CHECK(c.c2s.listen.empty());
    CHECK(c.c2s.direct_tls.empty());
    const auto all = c.c2s.all_listeners();
    REQUIRE(all.size() == 1);
    CHECK(all[0].trusted_proxy("10.1.2.3"));
    CHECK(all[0].trusted_proxy("::ffff:10.1.2.3"));
    CHECK_FALSE(all[0].trusted_proxy("192.0.2.1"));
    CHECK_FALSE(all[0].trusted_proxy("unknown"));
    // Set alongside them, the old lists stay.
    const Config both = loaded("[c2s]\nlisten = [\"127.0.0.1:5222\"]\n[[c2s.listener]]\naddress = \"127.0.0.1:6222\"\n");
    CHECK(both.c2s.all_listeners().size() == 2);
    CHECK(both.c2s.direct_tls.empty());
    // [c2s] proxy settings apply to listen and direct_tls.
    const Config old = loaded("[c2s]\nproxy_protocol = true\nproxy_from = [\"127.0.0.1\"]\n");
    for (const auto& l : old.c2s.all_listeners()) CHECK(l.trusted_proxy("127.0.0.1"));
    CHECK_FALSE(default_config().c2s.all_listeners()[0].trusted_proxy("127.0.0.1"));
}

TEST_CASE("config listener and proxy errors name file, line and key")
{
    CHECK(message_of("[c2s]\nproxy_protocol = true\n") ==
          "t.toml:2: key 'c2s.proxy_protocol': expected c2s.proxy_from as well: the addresses of the proxies allowed "
          "to send the PROXY header, e.g. [\"10.0.0.0/8\"]");
    CHECK(message_of("[c2s]\nproxy_from = [\"10.0.0.0/8\"]\n") ==
          "t.toml:2: key 'c2s.proxy_from': has no effect without c2s.proxy_protocol = true");
    CHECK(message_of("[c2s]\nproxy_protocol = true\nproxy_from = [\"10.0.0.0/8\",\n \"10.0.0.1/8\"]\n") ==
          "t.toml:4: key 'c2s.proxy_from[1]': the address has bits set beyond the prefix length (did you mean "
          "10.0.0.0/8?), got \"10.0.0.1/8\"");
    CHECK(message_of("[c2s]\nproxy_protocol = true\nproxy_from = [\"proxy.example\"]\n") ==
          "t.toml:3: key 'c2s.proxy_from[0]': expected an IP address or a prefix such as \"10.0.0.0/8\" or "
          "\"2001:db8::/32\", got \"proxy.example\"");
    CHECK(message_of("[c2s]\nproxy_protocol = true\nproxy_from = []\n") ==
          "t.toml:2: key 'c2s.proxy_protocol': expected c2s.proxy_from as well: the addresses of the proxies allowed "
          "to send the PROXY header, e.g. [\"10.0.0.0/8\"]");
    CHECK(message_of("[c2s]\nproxy_from = 1\n") ==
          "t.toml:2: key 'c2s.proxy_from': expected an array of IP prefixes, got 1");
    CHECK(message_of("[[c2s.listener]]\nmode = \"direct_tls\"\n") ==
          "t.toml:1: key 'c2s.listener[0]': expected c2s.listener[0].address (\"IP:port\" or \"[IPv6]:port\")");
    CHECK(message_of("[[c2s.listener]]\naddress = \"127.0.0.1:6222\"\n[[c2s.listener]]\naddress = \"127.0.0.1:70000\"\n") ==
          "t.toml:4: key 'c2s.listener[1].address': expected a port from 1 to 65535, got \"127.0.0.1:70000\"");
    CHECK(message_of("[[c2s.listener]]\naddress = \"127.0.0.1:6222\"\nmode = \"tls\"\n") ==
          "t.toml:3: key 'c2s.listener[0].mode': expected one of \"starttls\", \"direct_tls\", got \"tls\"");
    CHECK(message_of("[[c2s.listener]]\naddress = \"127.0.0.1:6222\"\nproxy_protocol = true\n") ==
          "t.toml:3: key 'c2s.listener[0].proxy_protocol': expected c2s.listener[0].proxy_from as well: the addresses "
          "of the proxies allowed to send the PROXY header, e.g. [\"10.0.0.0/8\"]");
    CHECK(message_of("[[c2s.listener]]\naddress = \"127.0.0.1:6222\"\nport = 1\n") ==
          "t.toml:3: key 'c2s.listener[0].port': unknown key (expected one of: address, mode, proxy_protocol, proxy_from)");
    CHECK(message_of("[c2s]\nlisten = [\"127.0.0.1:6222\"]\n[[c2s.listener]]\naddress = \"127.0.0.1:6222\"\n") ==
          "t.toml:4: key 'c2s.listener[0].address': address 127.0.0.1:6222 is listed twice (in c2s.listen[0] and "
          "c2s.listener[0].address)");
    CHECK(message_of("[c2s]\nlistener = 1\n") ==
          "t.toml:2: key 'c2s.listener': expected an array of tables ([[c2s.listener]]), got 1");
}

TEST_CASE("config sasl mechanisms come from the known set, once each, in the given order")
{
    CHECK(loaded("[sasl]\nmechanisms = [\"PLAIN\", \"SCRAM-SHA-256-PLUS\"]").sasl.mechanisms ==
          std::vector<SaslMechanism>{SaslMechanism::Plain, SaslMechanism::ScramSha256Plus});
    CHECK(message_of("[sasl]\nmechanisms = [\"DIGEST-MD5\"]\n") ==
          "t.toml:2: key 'sasl.mechanisms[0]': expected one of \"SCRAM-SHA-256-PLUS\", \"SCRAM-SHA-256\", "
          "\"SCRAM-SHA-1-PLUS\", \"SCRAM-SHA-1\", \"PLAIN\", got \"DIGEST-MD5\"");
    CHECK(message_of("[sasl]\nmechanisms = [\"PLAIN\", \"PLAIN\"]\n") ==
          "t.toml:2: key 'sasl.mechanisms[1]': mechanism \"PLAIN\" is listed twice");
    CHECK(error_of("[sasl]\nmechanisms = []\n").key == "sasl.mechanisms");
    CHECK(error_of("[sasl]\nmechanisms = [\"plain\"]\n").key == "sasl.mechanisms[0]");
}

TEST_CASE("config log levels map to their names")
{
    for (auto level : {LogLevel::Error, LogLevel::Warn, LogLevel::Info, LogLevel::Debug}) {
        const Config c = loaded("[server]\nlog_level = \"" + std::string{to_string(level)} + "\"");
        CHECK(c.server.log_level == level);
    }
}

TEST_CASE("config services read every key")
{
    const Config c = loaded(R"(
[server]
domains = ["example.org", "example.net"]
[[services]]
type = "turn"
host = "turn.example.org"
port = 3478
transport = "tcp"
name = "Relay"
names = { de = "Relais", PT-br = "Retransmissor" }
restricted = true
secret = ["new", "old"]
ttl = 600
algorithm = "hmac-sha1"
separator = "-"
inline_credentials = false
pseudonymous = true
allow = ["example.org", "Alice@Example.NET"]
[services.extended]
FORM_TYPE = "urn:example:relay"
region = ["eu", "us"]
[[services]]
type = "ftp"
host = "192.0.2.1"
port = 20
transport = "tcp"
username = "guest"
password = "guest"
restricted = false
)");
    REQUIRE(c.services.size() == 2);
    const ExternalService& turn = c.services[0];
    CHECK(turn.type == "turn");
    CHECK(turn.host == "turn.example.org");
    CHECK(turn.port == 3478);
    CHECK(turn.transport == ServiceTransport::Tcp);
    CHECK(turn.name == "Relay");
    CHECK(turn.names == std::map<std::string, std::string>{{"de", "Relais"}, {"pt-br", "Retransmissor"}});
    CHECK(turn.restricted);
    CHECK(turn.secrets == std::vector<std::string>{"new", "old"});
    CHECK(turn.ttl == 600s);
    CHECK(turn.separator == '-');
    CHECK_FALSE(turn.inline_credentials);
    CHECK(turn.pseudonymous);
    CHECK(turn.allow == std::vector<std::string>{"example.org", "alice@example.net"});
    CHECK(turn.extended == std::vector<ServiceField>{{"FORM_TYPE", {"urn:example:relay"}}, {"region", {"eu", "us"}}});
    const ExternalService& ftp = c.services[1];
    CHECK(ftp.username == "guest");
    CHECK(ftp.password == "guest");
    CHECK_FALSE(ftp.restricted);
    CHECK(ftp.secrets.empty());
    CHECK(ftp.inline_credentials);
}

TEST_CASE("config services defaults: restricted exactly when there are credentials, a day's ttl, ':' separator")
{
    const Config c = loaded(R"(
[[services]]
type = "stun"
host = "stun.example.org"
port = 3478
transport = "udp"
[[services]]
type = "turn"
host = "turn.example.org"
port = 3478
transport = "udp"
secret = "s"
[[services]]
type = "turn"
host = "static.example.org"
port = 3478
transport = "udp"
username = "u"
password = "p"
)");
    REQUIRE(c.services.size() == 3);
    CHECK_FALSE(c.services[0].restricted);
    CHECK_FALSE(c.services[0].has_credentials());
    CHECK(c.services[1].restricted);
    CHECK(c.services[1].secrets == std::vector<std::string>{"s"});
    CHECK(c.services[1].ttl == 86400s);
    CHECK(c.services[1].separator == ':');
    CHECK_FALSE(c.services[1].pseudonymous);
    CHECK(c.services[1].inline_credentials);
    CHECK(c.services[1].allow.empty());
    CHECK(c.services[2].restricted);
}

TEST_CASE("config turn shortcut expands into stun, turn udp and tcp, and turns")
{
    const Config c = loaded("[turn]\nhost = \"turn.example.org\"\nsecret = \"S\"\nttl = 3600\n[[services]]\ntype = "
                            "\"ftp\"\nhost = \"f\"\nport = 21\ntransport = \"tcp\"\n");
    REQUIRE(c.services.size() == 5);
    const auto& s = c.services;
    CHECK((s[0].type == "stun" && s[0].port == 3478 && s[0].transport == ServiceTransport::Udp));
    CHECK_FALSE(s[0].has_credentials());
    CHECK_FALSE(s[0].restricted);
    CHECK((s[1].type == "turn" && s[1].port == 3478 && s[1].transport == ServiceTransport::Udp));
    CHECK((s[2].type == "turn" && s[2].port == 3478 && s[2].transport == ServiceTransport::Tcp));
    CHECK((s[3].type == "turns" && s[3].port == 5349 && s[3].transport == ServiceTransport::Tcp));
    for (std::size_t i = 1; i <= 3; ++i) {
        CHECK(s[i].host == "turn.example.org");
        CHECK(s[i].secrets == std::vector<std::string>{"S"});
        CHECK(s[i].restricted);
        CHECK(s[i].ttl == 3600s);
    }
    CHECK(s[4].type == "ftp");

    const Config small = loaded("[turn]\nhost = \"t\"\nsecret = \"S\"\nport = 80\ntls_port = 443\nstun = false\n"
                                "turns = false\n");
    REQUIRE(small.services.size() == 2);
    CHECK((small.services[0].type == "turn" && small.services[0].port == 80));
    CHECK((small.services[1].type == "turn" && small.services[1].transport == ServiceTransport::Tcp));
    const Config tls_only = loaded("[turn]\nhost = \"t\"\nsecret = \"S\"\ntls_port = 443\nstun = false\n");
    CHECK(tls_only.services.back().port == 443);

    CHECK(message_of("[turn]\nsecret = \"S\"\n") ==
          "t.toml:1: key 'turn': expected turn.host (the TURN server's name or address)");
    CHECK(message_of("\n[turn]\nhost = \"t\"\n") ==
          "t.toml:2: key 'turn': expected turn.secret or turn.secret_file (coturn's static-auth-secret)");
    CHECK(message_of("[turn]\nhost = \"t\"\nsecret = \"S\"\nusername = \"u\"\n") ==
          "t.toml:4: key 'turn.username': unknown key (expected one of: host, port, tls_port, stun, turns, secret, "
          "secret_file, ttl, algorithm, separator, pseudonymous, inline_credentials, allow, name, names)");
    CHECK(message_of("[turn]\nhost = \"t\"\nsecret = \"S\"\n[[services]]\ntype = \"turn\"\nhost = \"t\"\nport = "
                     "3478\ntransport = \"tcp\"\n") ==
          "t.toml:4: key 'services[0]': service turn t:3478/tcp is listed twice (in turn and services[0])");
}

TEST_CASE("config services secrets: a string, a rotation list, or a file read at load")
{
    const auto dir = std::filesystem::temp_directory_path() / "tern_config_secret_test";
    std::filesystem::create_directories(dir);
    std::ofstream{dir / "turn.secret"} << "newest\r\n\nolder  \n";
    std::ofstream{dir / "empty.secret"} << "\n\n";
    const std::string head = "[[services]]\ntype = \"turn\"\nhost = \"t\"\nport = 3478\ntransport = \"udp\"\n";

    CHECK(loaded(head + "secret = \"one\"").services[0].secrets == std::vector<std::string>{"one"});
    CHECK(loaded(head + "secret = [\"a\", \"b\"]").services[0].secrets == std::vector<std::string>{"a", "b"});
    CHECK(loaded(head + "secret_file = \"turn.secret\"", dir).services[0].secrets ==
          std::vector<std::string>{"newest", "older"});
    CHECK(loaded(head + "secret_file = \"" + (dir / "turn.secret").string() + "\"").services[0].secrets ==
          std::vector<std::string>{"newest", "older"});
    CHECK(loaded("[turn]\nhost = \"t\"\nsecret_file = \"turn.secret\"\n", dir).services[1].secrets ==
          std::vector<std::string>{"newest", "older"});

    CHECK(message_of(head + "secret_file = \"" + (dir / "none").string() + "\"") ==
          "t.toml:6: key 'services[0].secret_file': cannot read secret file \"" + (dir / "none").string() +
              "\": No such file or directory");
    CHECK(error_of(head + "secret_file = \"" + (dir / "empty.secret").string() + "\"").message ==
          "secret file \"" + (dir / "empty.secret").string() + "\" holds no secret");
    CHECK(message_of(head + "secret = \"\"") ==
          "t.toml:6: key 'services[0].secret': expected a non-empty string or a non-empty array of them, got \"\"");
    CHECK(message_of(head + "secret = []") ==
          "t.toml:6: key 'services[0].secret': expected a non-empty string or a non-empty array of them, got an "
          "array");
    CHECK(message_of(head + "secret = [\"a\", 1]") ==
          "t.toml:6: key 'services[0].secret[1]': expected a non-empty string, got 1");
    CHECK(message_of(head + "secret = \"a\"\nsecret_file = \"" + (dir / "turn.secret").string() + "\"") ==
          "t.toml:7: key 'services[0].secret_file': give services[0].secret or services[0].secret_file, not both");
    std::filesystem::remove_all(dir);
}

TEST_CASE("config services need type, host, port and transport")
{
    const std::string all = "type = \"turn\"\nhost = \"t\"\nport = 3478\ntransport = \"udp\"\n";
    for (const char* key : {"type", "host", "port", "transport"}) {
        CAPTURE(key);
        std::string table = "[[services]]\n";
        for (const auto& line : {std::string{"type = \"turn\""}, std::string{"host = \"t\""}, std::string{"port = 3478"},
                                 std::string{"transport = \"udp\""}})
            if (!line.starts_with(key)) table += line + "\n";
        CHECK(message_of("\n" + table) == "t.toml:2: key 'services[0]': expected services[0]." + std::string{key} +
                                              " (every service needs type, host, port and transport; clients ignore "
                                              "entries without port and transport)");
    }
    CHECK(loaded("[[services]]\n" + all).services.size() == 1);
    CHECK(message_of("services = [1]\n") == "t.toml:1: key 'services[0]': expected a table, got 1");
    CHECK(message_of("services = 1\n") ==
          "t.toml:1: key 'services': expected an array of tables ([[services]]), got 1");
}

TEST_CASE("config services reject each bad value with its key and line")
{
    const std::pair<std::string, std::string> cases[] = {
        {"[[services]]\ntype = \"1turn\"", "key 'services[0].type': expected a service type such as \"stun\", \"turn\" "
                                           "or \"turns\", got \"1turn\""},
        {"[[services]]\nhost = \"a b\"", "key 'services[0].host': expected a host name or IP address, got \"a b\""},
        {"[[services]]\nhost = \"\"", "key 'services[0].host': expected a host name or IP address, got \"\""},
        {"[[services]]\nport = 0", "key 'services[0].port': expected an integer from 1 to 65535, got 0"},
        {"[[services]]\nport = 65536", "key 'services[0].port': expected an integer from 1 to 65535, got 65536"},
        {"[[services]]\ntransport = \"sctp\"",
         "key 'services[0].transport': expected one of \"udp\", \"tcp\", got \"sctp\""},
        {"[[services]]\nrestricted = \"yes\"", "key 'services[0].restricted': expected true or false, got \"yes\""},
        {"[[services]]\nname = \"\"", "key 'services[0].name': expected a non-empty string, got \"\""},
        {"[[services]]\nnames = { \"de_DE\" = \"x\" }",
         "key 'services[0].names.de_DE': expected a language tag such as de or pt-BR, got \"de_DE\""},
        {"[[services]]\nnames = { de = 1 }", "key 'services[0].names.de': expected a non-empty string, got 1"},
        {"[[services]]\nnames = \"de\"", "key 'services[0].names': expected a table of language = name, got \"de\""},
        {"[[services]]\nttl = 599", "key 'services[0].ttl': expected a number of seconds from 600 to 2592000, got 599"},
        {"[[services]]\nttl = 2592001",
         "key 'services[0].ttl': expected a number of seconds from 600 to 2592000, got 2592001"},
        {"[[services]]\nalgorithm = \"hmac-sha256\"",
         "key 'services[0].algorithm': expected \"hmac-sha1\" (the only one coturn checks), got \"hmac-sha256\""},
        {"[[services]]\nseparator = \"::\"",
         "key 'services[0].separator': expected one punctuation character such as \":\", got \"::\""},
        {"[[services]]\nseparator = \"a\"",
         "key 'services[0].separator': expected one punctuation character such as \":\", got \"a\""},
        {"[[services]]\nusername = \"\"", "key 'services[0].username': expected a non-empty string, got \"\""},
        {"[[services]]\nallow = []",
         "key 'services[0].allow': expected a non-empty array of domains and bare JIDs, got an array"},
        {"[[services]]\nallow = [\"a@localhost/r\"]",
         "key 'services[0].allow[0]': expected a domain or a bare JID (user@domain), got \"a@localhost/r\""},
        {"[[services]]\nallow = [\"localhost\", \"LOCALHOST\"]", "key 'services[0].allow[1]': \"localhost\" is listed twice"},
        {"[[services]]\nextended = { region = [] }",
         "key 'services[0].extended.region': expected a string or a non-empty array of strings, got an array"},
        {"[[services]]\nextended = { region = 1 }",
         "key 'services[0].extended.region': expected a string or a non-empty array of strings, got 1"},
        {"[[services]]\nextended = 1", "key 'services[0].extended': expected a table of field = value, got 1"},
        {"[[services]]\nbogus = 1", "key 'services[0].bogus': unknown key (expected one of: type, host, port, "
                                    "transport, restricted, username, password, extended, secret, secret_file, ttl, "
                                    "algorithm, separator, pseudonymous, inline_credentials, allow, name, names)"},
    };
    for (const auto& [toml, expected] : cases) {
        // The bad line comes first; the other required keys follow it.
        std::string table = toml + "\n";
        const std::string bad_key = toml.substr(std::string_view{"[[services]]\n"}.size());
        for (const std::string line : {"type = \"turn\"", "host = \"t\"", "port = 3478", "transport = \"udp\""})
            if (!bad_key.starts_with(line.substr(0, line.find(' ') + 1))) table += line + "\n";
        CAPTURE(table);
        CHECK(message_of(table) == "t.toml:2: " + expected);
    }
}

TEST_CASE("config services check credentials across keys")
{
    const std::string head = "[[services]]\ntype = \"turn\"\nhost = \"t\"\nport = 3478\ntransport = \"udp\"\n";
    CHECK(message_of(head + "username = \"u\"\n") ==
          "t.toml:6: key 'services[0].username': expected services[0].password as well (username and password go "
          "together)");
    CHECK(message_of(head + "password = \"p\"\n") ==
          "t.toml:6: key 'services[0].password': expected services[0].username as well (username and password go "
          "together)");
    CHECK(message_of(head + "secret = \"s\"\nusername = \"u\"\npassword = \"p\"\n") ==
          "t.toml:7: key 'services[0].username': static username/password and a shared secret exclude each other");
    CHECK(message_of(head + "restricted = true\n") ==
          "t.toml:6: key 'services[0].restricted': a restricted service needs credentials (secret, secret_file, or "
          "username and password)");
    CHECK(message_of(head + "inline_credentials = false\n") ==
          "t.toml:6: key 'services[0].inline_credentials': only used with credentials");
    for (const char* key : {"ttl = 600", "algorithm = \"hmac-sha1\"", "separator = \":\"", "pseudonymous = true"}) {
        CAPTURE(key);
        const ConfigError e = error_of(head + key + "\n");
        CHECK(e.line == 6);
        CHECK(e.message == "only used with a shared secret (secret or secret_file)");
    }
    CHECK(message_of(head + "username = \"u\"\npassword = \"p\"\nttl = 700\n") ==
          "t.toml:8: key 'services[0].ttl': only used with a shared secret (secret or secret_file)");
}

TEST_CASE("config services allow only served domains and no duplicate services")
{
    const std::string head = "[[services]]\ntype = \"turn\"\nhost = \"t\"\nport = 3478\ntransport = \"udp\"\n";
    CHECK(message_of(head + "secret = \"s\"\nallow = [\"localhost\",\n \"bob@elsewhere.org\"]\n") ==
          "t.toml:8: key 'services[0].allow[1]': domain \"elsewhere.org\" is not in server.domains");
    CHECK(message_of("[turn]\nhost = \"t\"\nsecret = \"s\"\nallow = [\"other.org\"]\n") ==
          "t.toml:4: key 'turn.allow[0]': domain \"other.org\" is not in server.domains");
    CHECK(message_of(head + "\n" + head) ==
          "t.toml:7: key 'services[1]': service turn t:3478/udp is listed twice (in services[0] and services[1])");
    const std::string other_port = "[[services]]\ntype = \"turn\"\nhost = \"t\"\nport = 3479\ntransport = \"udp\"\n";
    const std::string other_type = "[[services]]\ntype = \"stun\"\nhost = \"t\"\nport = 3478\ntransport = \"udp\"\n";
    const std::string other_transport = "[[services]]\ntype = \"turn\"\nhost = \"t\"\nport = 3478\ntransport = \"tcp\"\n";
    CHECK(loaded(head + other_port + other_type + other_transport).services.size() == 4);
}

}  // TEST_SUITE
