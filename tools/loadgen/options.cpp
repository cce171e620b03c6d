#include "loadgen/options.hpp"

#include <charconv>
#include <cmath>

namespace tern::loadgen {

namespace {

template <class T>
std::optional<T> parse_number(std::string_view text)
{
    T value{};
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
    return value;
}

// Seconds as a decimal ("2", "0.5") into milliseconds; negative or absurd values are refused.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view text)
{
    const auto seconds = parse_number<double>(text);
    if (!seconds || !std::isfinite(*seconds) || *seconds < 0 || *seconds > 30 * 86400) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(*seconds * 1000)));
}

}  // namespace

std::optional<std::uint32_t> parse_ipv4(std::string_view text)
{
    std::uint32_t address = 0;
    for (int part = 0; part < 4; ++part) {
        const auto dot = part < 3 ? text.find('.') : text.size();
        if (dot == std::string_view::npos || dot == 0 || dot > 3) return std::nullopt;
        const auto octet = parse_number<unsigned>(text.substr(0, dot));
        if (!octet || *octet > 255) return std::nullopt;
        address = address << 8 | *octet;
        text.remove_prefix(part < 3 ? dot + 1 : dot);
    }
    if (!text.empty()) return std::nullopt;
    return address;
}

std::string format_ipv4(std::uint32_t address)
{
    return std::to_string(address >> 24) + "." + std::to_string(address >> 16 & 0xff) + "." +
           std::to_string(address >> 8 & 0xff) + "." + std::to_string(address & 0xff);
}

expected<AddressRange, std::string> parse_address_range(std::string_view text)
{
    const auto dash = text.find('-');
    const auto first = parse_ipv4(text.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_ipv4(text.substr(dash + 1));
    if (!first || !last) return make_unexpected("not an IPv4 address range: '" + std::string(text) + "'");
    if (*last < *first) return make_unexpected("the range '" + std::string(text) + "' ends before it starts");
    return AddressRange{*first, *last};
}

crypto::Hash Options::hash() const
{
    return mechanism.starts_with("SCRAM-SHA-256") ? crypto::Hash::Sha256 : crypto::Hash::Sha1;
}

std::chrono::milliseconds Options::effective_deadline() const
{
    if (deadline.count() > 0) return deadline;
    using namespace std::chrono;
    const auto starting = connect_rate > 0 ? milliseconds(static_cast<std::int64_t>(count / connect_rate * 1000)) : 0ms;
    if (scenario == Scenario::Message) return starting + duration + drain + 2 * step_timeout + 120s;
    return starting + std::max(hold, settle) + 2 * step_timeout + 120s;
}

std::string_view usage()
{
    return "usage: tern-loadgen SCENARIO [options]\n"
           "\n"
           "scenarios:\n"
           "  idle    log COUNT sessions in (at --connect-rate, --concurrency in flight), hold them for --hold\n"
           "          seconds, and report the server's RSS per idle session (with --server-pid)\n"
           "  login   connect, TLS, SASL, bind, disconnect, COUNT times with --concurrency in flight: rate and\n"
           "          latency percentiles\n"
           "  message log --pairs P pairs of sessions in (accounts PREFIX1..PREFIX(2P); 2k-1 and 2k are a pair),\n"
           "          then both sides of every pair send chat messages to the other's full JID for --duration\n"
           "          seconds, --window in flight per sender (or at a total --rate): throughput, end-to-end\n"
           "          latency percentiles, lost messages, server CPU per message (with --server-pid)\n"
           "\n"
           "options:\n"
           "  --host ADDR            server IPv4 address (default 127.0.0.1)\n"
           "  --port PORT            server port (default 5222)\n"
           "  --direct-tls           TLS from the first byte (XEP-0368) instead of STARTTLS\n"
           "  --plain                no TLS at all (the server needs c2s.require_tls = false)\n"
           "  --users PREFIX         accounts are PREFIX1, PREFIX2, ... (required)\n"
           "  --password PW          the accounts' password (required)\n"
           "  --domain DOMAIN        the accounts' domain (default localhost)\n"
           "  --count N              idle: sessions; login: logins (required for both)\n"
           "  --accounts M           login: cycle through M accounts (default: COUNT)\n"
           "  --connect-rate R       new connections per second (default: no limit)\n"
           "  --concurrency C        logins in flight at once (default 200)\n"
           "  --hold SECONDS         idle: how long to hold the bound sessions (default 0: just measure)\n"
           "  --settle SECONDS       idle: quiet time before the memory sample (default 2)\n"
           "  --pairs P              message: pairs of sessions (required)\n"
           "  --duration SECONDS     message: how long to send (default 10)\n"
           "  --window W             message: messages in flight per sender, sent again as soon as the peer\n"
           "                         has them (default 1; with --rate, a cap, default 100)\n"
           "  --rate R               message: total messages per second over all senders (default: no rate,\n"
           "                         as fast as the window allows)\n"
           "  --body-size BYTES      message: size of each message's body (default 100)\n"
           "  --drain SECONDS        message: bound on the wait for messages still on their way (default 2)\n"
           "  --timeout SECONDS      bound on every wait for the server (default 20)\n"
           "  --deadline SECONDS     bound on the whole run (default: derived, plus 120)\n"
           "  --server-pid PID       sample this process's VmRSS and CPU time\n"
           "  --sources A-B          bind client sockets to these IPv4 addresses in turn (default\n"
           "                         127.0.0.1-127.0.255.254 when the server is on 127.0.0.0/8; 'none': don't)\n"
           "  --mechanism M          SCRAM-SHA-1 (default), SCRAM-SHA-256, or either with -PLUS (tls-exporter)\n"
           "  --json                 print only the JSON lines (one per phase), not the table\n"
           "  -h, --help             show this help\n"
           "\n"
           "exit status: 0 every session succeeded, 1 some failed, 2 the deadline cut the run short,\n"
           "3 bad arguments or no start (e.g. the open-file limit is too low)\n";
}

expected<std::optional<Options>, std::string> parse_options(std::span<const std::string_view> args)
{
    using Result = expected<std::optional<Options>, std::string>;
    const auto fail = [](std::string message) { return Result(make_unexpected(std::move(message))); };

    Options o;
    if (args.empty()) return fail("no scenario given (see tern-loadgen --help)");
    if (args[0] == "-h" || args[0] == "--help") return std::optional<Options>{};
    if (args[0] == "idle")
        o.scenario = Scenario::Idle;
    else if (args[0] == "login")
        o.scenario = Scenario::Login;
    else if (args[0] == "message")
        o.scenario = Scenario::Message;
    else
        return fail("unknown scenario '" + std::string(args[0]) + "' (idle, login or message)");

    bool sources_given = false;
    bool window_given = false;
    const auto message_only = [&](std::string_view flag) -> std::optional<Result> {
        if (o.scenario == Scenario::Message) return std::nullopt;
        return fail(std::string(flag) + " is for the message scenario");
    };
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string_view flag = args[i];
        if (flag == "-h" || flag == "--help") return std::optional<Options>{};
        if (flag == "--direct-tls" || flag == "--plain") {
            const Transport t = flag == "--plain" ? Transport::Plain : Transport::DirectTls;
            if (o.transport != Transport::StartTls && o.transport != t)
                return fail("--direct-tls and --plain exclude each other");
            o.transport = t;
            continue;
        }
        if (flag == "--json") {
            o.json_only = true;
            continue;
        }
        if (i + 1 == args.size()) return fail(std::string(flag) + " needs a value");
        const std::string_view value = args[++i];
        const auto bad = [&](std::string_view what) {
            return fail(std::string(flag) + ": expected " + std::string(what) + ", got '" + std::string(value) + "'");
        };
        if (flag == "--host") {
            if (!parse_ipv4(value)) return bad("an IPv4 address");
            o.host = std::string(value);
        } else if (flag == "--port") {
            const auto port = parse_number<std::uint16_t>(value);
            if (!port || *port == 0) return bad("a port from 1 to 65535");
            o.port = *port;
        } else if (flag == "--users") {
            if (value.empty()) return bad("a non-empty prefix");
            o.user_prefix = std::string(value);
        } else if (flag == "--password") {
            o.password = std::string(value);
        } else if (flag == "--domain") {
            if (value.empty()) return bad("a domain");
            o.domain = std::string(value);
        } else if (flag == "--count" || flag == "--accounts" || flag == "--concurrency") {
            const auto n = parse_number<std::uint32_t>(value);
            if (!n || *n == 0 || *n > 10'000'000) return bad("a number from 1 to 10000000");
            (flag == "--count" ? o.count : flag == "--accounts" ? o.accounts : o.concurrency) = *n;
        } else if (flag == "--pairs" || flag == "--window" || flag == "--body-size") {
            if (auto refused = message_only(flag)) return *refused;
            const auto n = parse_number<std::uint32_t>(value);
            const std::uint32_t most = flag == "--pairs" ? 5'000'000 : flag == "--window" ? 100'000 : 65'536;
            if (!n || *n == 0 || *n > most) return bad("a number from 1 to " + std::to_string(most));
            (flag == "--pairs" ? o.pairs : flag == "--window" ? o.window : o.body_bytes) = *n;
            window_given = window_given || flag == "--window";
        } else if (flag == "--rate") {
            if (auto refused = message_only(flag)) return *refused;
            const auto rate = parse_number<double>(value);
            if (!rate || !std::isfinite(*rate) || *rate <= 0) return bad("messages per second above 0");
            o.message_rate = *rate;
        } else if (flag == "--duration" || flag == "--drain") {
            if (auto refused = message_only(flag)) return *refused;
            const auto duration = parse_seconds(value);
            if (!duration) return bad("seconds");
            if (flag == "--duration" && duration->count() == 0) return bad("seconds above 0");
            (flag == "--duration" ? o.duration : o.drain) = *duration;
        } else if (flag == "--connect-rate") {
            const auto rate = parse_number<double>(value);
            if (!rate || !std::isfinite(*rate) || *rate < 0) return bad("connections per second (0: no limit)");
            o.connect_rate = *rate;
        } else if (flag == "--hold" || flag == "--settle" || flag == "--timeout" || flag == "--deadline") {
            const auto duration = parse_seconds(value);
            if (!duration) return bad("seconds");
            if ((flag == "--timeout" || flag == "--deadline") && duration->count() == 0) return bad("seconds above 0");
            (flag == "--hold"      ? o.hold
             : flag == "--settle"  ? o.settle
             : flag == "--timeout" ? o.step_timeout
                                   : o.deadline) = *duration;
        } else if (flag == "--server-pid") {
            const auto pid = parse_number<int>(value);
            if (!pid || *pid <= 0) return bad("a process id");
            o.server_pid = *pid;
        } else if (flag == "--sources") {
            sources_given = true;
            if (value == "none") {
                o.sources.reset();
            } else {
                auto range = parse_address_range(value);
                if (!range) return fail("--sources: " + range.error());
                o.sources = *range;
            }
        } else if (flag == "--mechanism") {
            if (value != "SCRAM-SHA-1" && value != "SCRAM-SHA-256" && value != "SCRAM-SHA-1-PLUS" &&
                value != "SCRAM-SHA-256-PLUS")
                return bad("SCRAM-SHA-1, SCRAM-SHA-256, SCRAM-SHA-1-PLUS or SCRAM-SHA-256-PLUS");
            o.mechanism = std::string(value);
        } else {
            return fail("unknown option '" + std::string(flag) + "' (see tern-loadgen --help)");
        }
    }

    if (o.user_prefix.empty()) return fail("--users PREFIX is required");
    if (o.password.empty()) return fail("--password is required");
    if (o.scenario == Scenario::Message) {
        if (o.count != 0 || o.accounts != 0) return fail("the message scenario takes --pairs, not --count or --accounts");
        if (o.pairs == 0) return fail("--pairs is required");
        o.count = o.accounts = 2 * o.pairs;
        if (o.message_rate > 0 && !window_given) o.window = 100;
    }
    if (o.count == 0) return fail("--count is required");
    if (o.scenario == Scenario::Idle) {
        if (o.accounts != 0 && o.accounts != o.count) return fail("--accounts is for the login scenario");
        o.accounts = o.count;
    } else if (o.accounts == 0) {
        o.accounts = o.count;
    }
    if (o.transport == Transport::Plain && o.channel_binding())
        return fail("--mechanism " + o.mechanism + " needs TLS (channel binding)");
    if (!sources_given && *parse_ipv4(o.host) >> 24 == 127) o.sources = AddressRange{0x7f000001, 0x7f00fffe};
    return std::optional<Options>{std::move(o)};
}

}  // namespace tern::loadgen
