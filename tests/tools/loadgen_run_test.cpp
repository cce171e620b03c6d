// The real tern-loadgen binary against a real ternd on loopback ports.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>

#include "tern_process.hpp"

using namespace tern::test;

namespace {

RunResult loadgen(std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(60))
{
    args.insert(args.begin(), TERN_LOADGEN_PATH);
    return run_program(args, {}, timeout);
}

// The JSON line of one phase from the output (whole line), or "".
std::string phase_line(const std::string& output, const std::string& phase)
{
    const std::string needle = "\"phase\":\"" + phase + "\"";
    std::size_t at = 0;
    while (at < output.size()) {
        const auto end = std::min(output.find('\n', at), output.size());
        const std::string line = output.substr(at, end - at);
        if (line.starts_with("{") && line.find(needle) != std::string::npos) return line;
        at = end + 1;
    }
    return "";
}

void add_accounts(TernProcess& server, const std::string& prefix, int n, const std::string& password)
{
    server.write_config();
    const auto r = run_program({ternctl_path(), "--config", server.config_path().string(), "adduser-bulk", prefix,
                                std::to_string(n), "localhost"},
                               password + "\n");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
}

std::vector<std::string> common(const TernProcess& server, const std::string& count)
{
    return {"--port", std::to_string(server.starttls_port()), "--users", "lg", "--password", "pw", "--count", count,
            "--timeout", "10"};
}

// A number field of a JSON line ("key":123.4), or -1 if missing.
double json_number(const std::string& line, const std::string& key)
{
    const std::string needle = "\"" + key + "\":";
    const auto at = line.find(needle);
    if (at == std::string::npos) return -1;
    return std::strtod(line.c_str() + at + needle.size(), nullptr);
}

std::vector<std::string> message_args(const TernProcess& server, const std::string& pairs)
{
    return {"message", "--port", std::to_string(server.starttls_port()), "--users", "lg", "--password", "pw",
            "--pairs", pairs, "--timeout", "10", "--drain", "5"};
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

TEST_SUITE("tools") {

TEST_CASE("loadgen login cycles through accounts over STARTTLS and reports every login")
{
    TernProcess server;
    server.set("server", "log_level", "\"info\"");
    add_accounts(server, "lg", 3, "pw");
    server.start();
    const auto r = loadgen(concat({"login"}, concat(common(server, "9"), {"--accounts", "3", "--concurrency", "3",
                                                                          "--server-pid", std::to_string(server.pid())})));
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    const std::string line = phase_line(r.output, "login");
    CHECK(line.find("\"logins\":9,\"succeeded\":9,\"failed\":0,") != std::string::npos);
    CHECK(line.find("\"errors\":{}") != std::string::npos);
    CHECK(line.find("\"server_cpu_s\":") != std::string::npos);
    CHECK(r.output.find("succeeded / failed") != std::string::npos);  // the table, too
    CHECK(phase_line(r.output, "loadgen").find("\"deadline_hit\":0") != std::string::npos);
}

TEST_CASE("loadgen idle holds bound sessions and measures the server's memory")
{
    TernProcess server;
    server.set("server", "log_level", "\"info\"");
    server.set("limits", "max_connections_per_ip", "2");  // sources are spread: one connection per address
    add_accounts(server, "lg", 6, "pw");
    server.start();
    const auto r = loadgen(concat({"idle", "--json"}, concat(common(server, "6"), {"--hold", "0.5", "--settle", "0.3",
                                                                                   "--connect-rate", "100",
                                                                                   "--server-pid",
                                                                                   std::to_string(server.pid())})));
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    CHECK(phase_line(r.output, "login").find("\"sessions\":6,\"bound\":6,\"failed\":0,") != std::string::npos);
    const std::string idle = phase_line(r.output, "idle");
    CHECK(idle.find("\"sessions\":6,\"server_rss_before_kib\":") != std::string::npos);
    CHECK(idle.find("\"rss_per_session_kib\":") != std::string::npos);
    CHECK(phase_line(r.output, "close").find("\"lost_during_hold\":0,\"holding_at_release\":6,") != std::string::npos);
    CHECK(r.output.find("per idle session") == std::string::npos);  // --json: no table
    CHECK(server.running());
}

TEST_CASE("loadgen speaks direct TLS with channel binding, and plaintext when the server allows it")
{
    TernProcess server;
    server.set("server", "log_level", "\"info\"");
    server.set("c2s", "require_tls", "false");
    add_accounts(server, "lg", 2, "pw");
    server.start();
    auto r = loadgen({"login", "--port", std::to_string(server.direct_tls_port()), "--direct-tls", "--mechanism",
                      "SCRAM-SHA-256-PLUS", "--users", "lg", "--password", "pw", "--count", "2"});
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    CHECK(phase_line(r.output, "login").find("\"succeeded\":2,\"failed\":0,") != std::string::npos);
    r = loadgen(concat({"login", "--plain"}, common(server, "2")));
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    CHECK(phase_line(r.output, "login").find("\"succeeded\":2,\"failed\":0,") != std::string::npos);
}

TEST_CASE("loadgen counts failures by kind and exits 1")
{
    TernProcess server;
    server.set("server", "log_level", "\"info\"");
    add_accounts(server, "lg", 2, "right");
    server.start();
    const auto r = loadgen(concat({"login", "--json"}, common(server, "2")));
    CHECK(r.exit_code == 1);
    CHECK(phase_line(r.output, "login").find("\"failed\":2,") != std::string::npos);
    CHECK(phase_line(r.output, "login").find("\"errors\":{\"sasl:not-authorized\":2}") != std::string::npos);
}

TEST_CASE("loadgen bounds every wait: a server that never answers times out the step")
{
    // A listener that accepts (through the kernel backlog) but never speaks.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);

    const auto begun = std::chrono::steady_clock::now();
    const auto r = loadgen({"idle", "--json", "--port", std::to_string(ntohs(addr.sin_port)), "--users", "x",
                            "--password", "y", "--count", "3", "--timeout", "0.5"},
                           std::chrono::seconds(20));
    const auto took = std::chrono::steady_clock::now() - begun;
    ::close(fd);
    CHECK(r.exit_code == 1);
    CHECK(phase_line(r.output, "login").find("\"errors\":{\"timeout:stream\":3}") != std::string::npos);
    CHECK(took < std::chrono::seconds(10));

    // The run's own deadline cuts a run that would take longer.
    const auto cut = loadgen({"idle", "--json", "--port", "9", "--host", "127.0.0.1", "--users", "x", "--password", "y",
                              "--count", "100", "--connect-rate", "1", "--deadline", "1"},
                             std::chrono::seconds(20));
    CHECK(cut.exit_code == 2);
    CHECK(phase_line(cut.output, "loadgen").find("\"deadline_hit\":1") != std::string::npos);
}

TEST_CASE("loadgen message routes chat messages within every pair and measures their latency")
{
    TernProcess server;
    server.set("server", "log_level", "\"info\"");
    add_accounts(server, "lg", 6, "pw");
    server.start();
    const auto r = loadgen(concat(message_args(server, "3"), {"--duration", "1", "--window", "4", "--body-size", "50",
                                                              "--server-pid", std::to_string(server.pid())}));
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    CHECK(phase_line(r.output, "login").find("\"sessions\":6,\"bound\":6,\"failed\":0,") != std::string::npos);
    const std::string line = phase_line(r.output, "message");
    CHECK(line.find("\"pairs\":3,\"senders\":6,\"window\":4,\"rate_target\":0.000,\"body_bytes\":50,") !=
          std::string::npos);
    const double sent = json_number(line, "sent");
    CHECK(sent >= 6 * 4);  // every sender filled its window at least once
    CHECK(json_number(line, "received") == sent);
    CHECK(json_number(line, "lost") == 0);
    CHECK(json_number(line, "bounced") == 0);
    CHECK(json_number(line, "throughput_per_s") > 0);
    const double p50 = json_number(line, "p50");
    CHECK(p50 > 0);
    CHECK(p50 <= json_number(line, "p99"));
    CHECK(json_number(line, "p99") <= json_number(line, "max"));
    CHECK(json_number(line, "max") < 10'000);  // from the id's timestamp: not some absolute clock value
    CHECK(json_number(line, "server_cpu_s") > 0);
    CHECK(json_number(line, "messages_per_server_cpu_s") > 0);
    CHECK(json_number(line, "loadgen_cpu_s") > 0);
    CHECK(line.find("\"errors\":{}") != std::string::npos);
    CHECK(r.output.find("sent / received / lost") != std::string::npos);
    CHECK(server.running());
}

TEST_CASE("loadgen message holds a total rate without TLS")
{
    TernProcess server;
    server.set("server", "log_level", "\"info\"");
    server.set("c2s", "require_tls", "false");
    add_accounts(server, "lg", 4, "pw");
    server.start();
    const auto r = loadgen(concat(message_args(server, "2"), {"--plain", "--json", "--rate", "200", "--duration", "1"}));
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    const std::string line = phase_line(r.output, "message");
    CHECK(line.find("\"senders\":4,\"window\":100,\"rate_target\":200.000,") != std::string::npos);
    // 200 per second for one second, on a schedule: neither a burst nor a trickle.
    const double sent = json_number(line, "sent");
    CHECK(sent >= 180);
    CHECK(sent <= 204);
    CHECK(json_number(line, "received") == sent);
    CHECK(json_number(line, "p50") > 0);
}

TEST_CASE("loadgen message: a pair with a failed login does not send, the other pairs do")
{
    TernProcess server;
    server.set("server", "log_level", "\"info\"");
    add_accounts(server, "lg", 3, "pw");  // lg4 does not exist: pair 2 is lg3 and lg4
    server.start();
    const auto r = loadgen(concat(message_args(server, "2"), {"--json", "--duration", "0.5"}));
    CHECK(r.exit_code == 1);
    const std::string login = phase_line(r.output, "login");
    CHECK(login.find("\"bound\":3,\"failed\":1,") != std::string::npos);
    CHECK(login.find("\"errors\":{\"sasl:not-authorized\":1}") != std::string::npos);
    const std::string line = phase_line(r.output, "message");
    CHECK(line.find("\"senders\":2,") != std::string::npos);
    CHECK(json_number(line, "sent") > 0);
    CHECK(json_number(line, "received") == json_number(line, "sent"));
    CHECK(line.find("\"errors\":{}") != std::string::npos);
}

TEST_CASE("loadgen extdisco keeps a window of XEP-0215 requests in flight and counts IQ errors by kind")
{
    TernProcess server;
    server.set("server", "log_level", "\"info\"");
    server.set("turn", "host", "\"127.0.0.1\"");
    server.set("turn", "secret", "\"s3cret\"");
    add_accounts(server, "lg", 2, "pw");
    server.start();
    const std::vector<std::string> base = {"extdisco", "--port", std::to_string(server.starttls_port()), "--users", "lg",
                                           "--password", "pw", "--connections", "2", "--timeout", "10", "--duration",
                                           "0.5", "--window", "4"};
    auto r = loadgen(concat(base, {"--service-type", "turn", "--server-pid", std::to_string(server.pid())}));
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    CHECK(phase_line(r.output, "login").find("\"sessions\":2,\"bound\":2,\"failed\":0,") != std::string::npos);
    std::string line = phase_line(r.output, "extdisco");
    CHECK(line.find("\"connections\":2,\"window\":4,\"service_type\":\"turn\",\"request\":\"services\",") !=
          std::string::npos);
    CHECK(json_number(line, "sent") >= 8);
    CHECK(json_number(line, "results") == json_number(line, "sent"));
    CHECK(json_number(line, "unanswered") == 0);
    CHECK(json_number(line, "iqs_per_s") > 0);
    CHECK(json_number(line, "p50") > 0);
    CHECK(json_number(line, "p99") <= json_number(line, "max"));
    CHECK(json_number(line, "server_cpu_us_per_iq") >= 0);
    CHECK(line.find("\"errors\":{}") != std::string::npos);
    CHECK(r.output.find("sent / answered / errors / unanswered") != std::string::npos);

    // Credentials for a service the server does not have: every answer is an IQ error, counted by condition.
    r = loadgen(concat(base, {"--json", "--credentials", "nowhere.example", "--service-type", "turn"}));
    CHECK(r.exit_code == 1);
    line = phase_line(r.output, "extdisco");
    CHECK(json_number(line, "results") == 0);
    CHECK(json_number(line, "iq_errors") == json_number(line, "sent"));
    CHECK(line.find("\"errors\":{\"iq-error:") != std::string::npos);
    CHECK(server.running());
}

TEST_CASE("loadgen handshake does bare TLS handshakes on the direct-TLS port")
{
    TernProcess server;
    server.set("server", "log_level", "\"info\"");
    server.start();
    const auto r = loadgen({"handshake", "--port", std::to_string(server.direct_tls_port()), "--count", "12",
                            "--concurrency", "3", "--server-pid", std::to_string(server.pid())});
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    const std::string line = phase_line(r.output, "handshake");
    CHECK(line.find("\"handshakes\":12,\"succeeded\":12,\"failed\":0,") != std::string::npos);
    CHECK(json_number(line, "rate_per_s") > 0);
    CHECK(json_number(line, "server_cpu_s") >= 0);
    CHECK(line.find("\"loadgen_saturated\":") != std::string::npos);
    CHECK(r.output.find("handshakes/s") != std::string::npos);
    CHECK(server.running());

    // The STARTTLS port does not speak TLS first: every handshake fails, by kind.
    const auto wrong = loadgen({"handshake", "--json", "--port", std::to_string(server.starttls_port()), "--count", "2",
                                "--timeout", "2"});
    CHECK(wrong.exit_code == 1);
    CHECK(phase_line(wrong.output, "handshake").find("\"succeeded\":0,\"failed\":2,") != std::string::npos);
}

TEST_CASE("loadgen mixed sends a mix of events at a rate and reports every interval")
{
    TernProcess server;
    server.set("server", "log_level", "\"info\"");
    server.set("turn", "host", "\"127.0.0.1\"");
    server.set("turn", "secret", "\"s3cret\"");
    add_accounts(server, "lg", 4, "pw");
    server.start();
    const auto r = loadgen({"mixed", "--port", std::to_string(server.starttls_port()), "--users", "lg", "--password",
                            "pw", "--count", "4", "--rate", "200", "--duration", "1.5", "--interval", "0.5", "--timeout",
                            "10", "--server-pid", std::to_string(server.pid())});
    CHECK_MESSAGE(r.exit_code == 0, r.output);
    // Three intervals of 0.5 s (the last one may come after the drain), each a JSON line and a table row.
    std::size_t intervals = 0;
    std::string first;
    for (std::size_t at = r.output.find("\"phase\":\"interval\""); at != std::string::npos;
         at = r.output.find("\"phase\":\"interval\"", at + 1)) {
        if (intervals++ == 0) first = phase_line(r.output, "interval");
    }
    CHECK(intervals >= 3);
    CHECK(intervals <= 4);
    CHECK(json_number(first, "sent") >= 90);
    CHECK(json_number(first, "events_per_s") > 0);
    CHECK(json_number(first, "server_rss_kib") > 0);
    CHECK(json_number(first, "server_fds") > 4);
    CHECK(json_number(first, "p50") > 0);
    CHECK(first.find("\"errors\":{}") != std::string::npos);
    CHECK(first.find("\"loadgen_saturated\":") != std::string::npos);
    CHECK(r.output.find("elapsed_s") != std::string::npos);  // the table's header

    const std::string summary = phase_line(r.output, "mixed");
    CHECK(json_number(summary, "sent") >= 280);
    CHECK(json_number(summary, "sent") <= 301);
    CHECK(json_number(summary, "completed") == json_number(summary, "sent"));
    CHECK(json_number(summary, "late") == 0);
    CHECK(summary.find("\"errors\":{}") != std::string::npos);
    CHECK(server.running());
}

}  // TEST_SUITE
