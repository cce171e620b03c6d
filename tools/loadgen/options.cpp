#include "loadgen/options.hpp"

#include <algorithm>
#include <cctype>
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
    if (scenario == Scenario::Message || scenario == Scenario::Extdisco || scenario == Scenario::Mixed)
        return starting + duration + drain + 2 * step_timeout + 120s;
    return starting + std::max(hold, settle) + 2 * step_timeout + 120s;
}

std::string_view scenario_name(Scenario scenario)
{
    switch (scenario) {
    case Scenario::Idle: return "idle";
    case Scenario::Login: return "login";
    case Scenario::Message: return "message";
    case Scenario::Extdisco: return "extdisco";
    case Scenario::Handshake: return "handshake";
    case Scenario::Mixed: return "mixed";
    }
    return "?";
}

std::string_view usage()
{
    return "usage: tern-loadgen SCENARIO [options]\n"
           "\n"
           "scenarios:\n"
           "  idle      log COUNT sessions in (at --connect-rate, --concurrency in flight), hold them for --hold\n"
           "            seconds, and report the server's RSS per idle session (with --server-pid)\n"
           "  login     connect, TLS, SASL, bind, disconnect, COUNT times with --concurrency in flight: rate and\n"
           "            latency percentiles\n"
           "  message   log --pairs P pairs of sessions in (accounts PREFIX1..PREFIX(2P); 2k-1 and 2k are a pair),\n"
           "            then both sides of every pair send chat messages to the other's full JID for --duration\n"
           "            seconds, --window in flight per sender (or at a total --rate): throughput, end-to-end\n"
           "            latency percentiles, lost messages, server CPU per message (with --server-pid)\n"
           "  extdisco  log --connections C sessions in, then each keeps --window W XEP-0215 requests\n"
           "            (<services xmlns='urn:xmpp:extdisco:2'/>, with --service-type T: type='T'; or <credentials/>\n"
           "            with --credentials) in flight for\n"
           "            --duration seconds: IQs/s, latency percentiles, errors (IQ error, timeout, disconnect),\n"
           "            server CPU per IQ. Any type='result' counts as an answer (tern, Prosody's\n"
           "            mod_external_services, ejabberd's mod_stun_disco)\n"
           "  handshake connect, full TLS handshake on a direct-TLS port, close, COUNT times with --concurrency in\n"
           "            flight (--direct-tls is implied; no accounts): handshakes/s, latency, server CPU per\n"
           "            handshake - what the TLS library alone achieves, the ceiling for logins\n"
           "  mixed     log COUNT sessions in, then send --rate events per second in total for --duration seconds:\n"
           "            ~60% chat messages to a random other session, ~20% XEP-0199 pings to the server, ~15%\n"
           "            presence broadcasts, ~5% extdisco requests. Every --interval seconds one table row and\n"
           "            JSON line: events/s, latency percentiles of the answers and deliveries, errors by kind,\n"
           "            and with --server-pid the server's VmRSS, open descriptors and CPU (for soak runs)\n"
           "\n"
           "options:\n"
           "  --host ADDR            server IPv4 address (default 127.0.0.1)\n"
           "  --port PORT            server port (default 5222)\n"
           "  --direct-tls           TLS from the first byte (XEP-0368) instead of STARTTLS\n"
           "  --plain                no TLS at all (the server needs c2s.require_tls = false)\n"
           "  --users PREFIX         accounts are PREFIX1, PREFIX2, ... (required but for handshake)\n"
           "  --first N              number the accounts from N: PREFIX<N>, PREFIX<N+1>, ... (default 1)\n"
           "  --password PW          the accounts' password (required but for handshake)\n"
           "  --domain DOMAIN        the accounts' domain (default localhost)\n"
           "  --count N              idle, mixed: sessions; login, handshake: cycles (required for these)\n"
           "  --accounts M           login: cycle through M accounts (default: COUNT)\n"
           "  --connections C        extdisco: bound sessions (required)\n"
           "  --connect-rate R       new connections per second (default: no limit)\n"
           "  --concurrency C        logins (handshakes) in flight at once (default 200)\n"
           "  --hold SECONDS         idle: how long to hold the bound sessions (default 0: just measure)\n"
           "  --settle SECONDS       idle: quiet time before the memory sample (default 2)\n"
           "  --pairs P              message: pairs of sessions (required)\n"
           "  --duration SECONDS     message, extdisco, mixed: how long to send (default 10)\n"
           "  --window W             message: messages in flight per sender, sent again as soon as the peer\n"
           "                         has them (default 1; with --rate, a cap, default 100); extdisco: requests\n"
           "                         in flight per connection (default 1)\n"
           "  --rate R               message: total messages per second over all senders (default: no rate,\n"
           "                         as fast as the window allows); mixed: total events per second (default 100)\n"
           "  --body-size BYTES      message, mixed: size of each message's body (default 100)\n"
           "  --service-type T       extdisco: ask for services of this type only (e.g. turn)\n"
           "  --credentials HOST     extdisco: ask for <credentials/> of the --service-type service on HOST instead\n"
           "                         (one fresh TURN REST credential per answer)\n"
           "  --interval SECONDS     mixed: how often to report (default 60)\n"
           "  --drain SECONDS        message, extdisco, mixed: bound on the wait for answers still on their way\n"
           "                         (default 2)\n"
           "  --timeout SECONDS      bound on every wait for the server (default 20)\n"
           "  --deadline SECONDS     bound on the whole run (default: derived, plus 120)\n"
           "  --server-pid PID       sample this process's VmRSS and CPU time (mixed: open descriptors too)\n"
           "  --sources A-B          bind client sockets to these IPv4 addresses in turn (default\n"
           "                         127.0.0.1-127.0.255.254 when the server is on 127.0.0.0/8; 'none': don't)\n"
           "  --mechanism M          SCRAM-SHA-1 (default), SCRAM-SHA-256, or either with -PLUS (tls-exporter)\n"
           "  --no-scram-cache       derive the SCRAM keys (PBKDF2) on every login; by default each account's\n"
           "                         keys are kept after its first login, as real clients do (RFC 5802 §5.1)\n"
           "  --json                 print only the JSON lines (one per phase), not the table\n"
           "  -h, --help             show this help\n"
           "\n"
           "Every phase reports tern-loadgen's own CPU; above 90% of a core it says so (\"loadgen_saturated\"):\n"
           "the generator, not the server, may then be the limit.\n"
           "\n"
           "More than one generator: a process holds at most as many sockets as its open-file limit allows (it\n"
           "raises the soft limit to the hard one; 20,000 on the reference machine), so for more sessions run\n"
           "several processes, each on its own accounts and source addresses, e.g. for 38,000 idle sessions:\n"
           "  tern-loadgen idle --users load --first 1     --count 19000 --sources 127.1.0.1-127.1.255.254 ... &\n"
           "  tern-loadgen idle --users load --first 19001 --count 19000 --sources 127.2.0.1-127.2.255.254 ... &\n"
           "\n"
           "exit status: 0 every session succeeded, 1 some failed, 2 the deadline cut the run short,\n"
           "3 bad arguments or no start (e.g. the open-file limit is too low)\n";
}

namespace {

// Which scenarios take a scenario-specific flag; nullptr for flags every scenario takes.
struct FlagScope {
    std::string_view flag;
    unsigned scenarios;      // a bit per Scenario
    std::string_view named;  // "the message scenario", ...

    bool allows(Scenario s) const { return scenarios >> static_cast<unsigned>(s) & 1u; }
};

constexpr unsigned bit(Scenario s) { return 1u << static_cast<unsigned>(s); }

const FlagScope* scope_of(std::string_view flag)
{
    using enum Scenario;
    static constexpr FlagScope scopes[] = {
        {"--pairs", bit(Message), "the message scenario"},
        {"--window", bit(Message) | bit(Extdisco), "the message and extdisco scenarios"},
        {"--body-size", bit(Message) | bit(Mixed), "the message and mixed scenarios"},
        {"--rate", bit(Message) | bit(Mixed), "the message and mixed scenarios"},
        {"--duration", bit(Message) | bit(Extdisco) | bit(Mixed), "the message, extdisco and mixed scenarios"},
        {"--drain", bit(Message) | bit(Extdisco) | bit(Mixed), "the message, extdisco and mixed scenarios"},
        {"--connections", bit(Extdisco), "the extdisco scenario"},
        {"--service-type", bit(Extdisco), "the extdisco scenario"},
        {"--credentials", bit(Extdisco), "the extdisco scenario"},
        {"--interval", bit(Mixed), "the mixed scenario"},
        {"--accounts", bit(Login), "the login scenario"},
        {"--hold", bit(Idle), "the idle scenario"},
        {"--settle", bit(Idle), "the idle scenario"},
    };
    for (const auto& scope : scopes)
        if (scope.flag == flag) return &scope;
    return nullptr;
}

std::optional<Scenario> scenario_named(std::string_view name)
{
    for (const Scenario s : {Scenario::Idle, Scenario::Login, Scenario::Message, Scenario::Extdisco,
                             Scenario::Handshake, Scenario::Mixed})
        if (scenario_name(s) == name) return s;
    return std::nullopt;
}

// An XML NCName-ish token: safe inside an attribute value without escaping.
bool is_simple_token(std::string_view text)
{
    if (text.empty() || text.size() > 64) return false;
    for (const char c : text)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
    return true;
}

}  // namespace

expected<std::optional<Options>, std::string> parse_options(std::span<const std::string_view> args)
{
    using Result = expected<std::optional<Options>, std::string>;
    const auto fail = [](std::string message) { return Result(make_unexpected(std::move(message))); };

    Options o;
    if (args.empty()) return fail("no scenario given (see tern-loadgen --help)");
    if (args[0] == "-h" || args[0] == "--help") return std::optional<Options>{};
    const auto scenario = scenario_named(args[0]);
    if (!scenario)
        return fail("unknown scenario '" + std::string(args[0]) +
                    "' (idle, login, message, extdisco, handshake or mixed)");
    o.scenario = *scenario;

    bool sources_given = false;
    bool window_given = false;
    bool rate_given = false;
    bool transport_given = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string_view flag = args[i];
        if (flag == "-h" || flag == "--help") return std::optional<Options>{};
        if (flag == "--direct-tls" || flag == "--plain") {
            const Transport t = flag == "--plain" ? Transport::Plain : Transport::DirectTls;
            if (o.transport != Transport::StartTls && o.transport != t)
                return fail("--direct-tls and --plain exclude each other");
            o.transport = t;
            transport_given = true;
            continue;
        }
        if (flag == "--json") {
            o.json_only = true;
            continue;
        }
        if (flag == "--no-scram-cache") {
            o.scram_cache = false;
            continue;
        }
        if (const FlagScope* scope = scope_of(flag); scope && !scope->allows(o.scenario))
            return fail(std::string(flag) + " is for " + std::string(scope->named));
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
        } else if (flag == "--first") {
            const auto n = parse_number<std::uint32_t>(value);
            if (!n || *n > 1'000'000'000) return bad("a number from 0 to 1000000000");
            o.first = *n;
        } else if (flag == "--password") {
            o.password = std::string(value);
        } else if (flag == "--domain") {
            if (value.empty()) return bad("a domain");
            o.domain = std::string(value);
        } else if (flag == "--count" || flag == "--accounts" || flag == "--concurrency" || flag == "--connections") {
            const auto n = parse_number<std::uint32_t>(value);
            if (!n || *n == 0 || *n > 10'000'000) return bad("a number from 1 to 10000000");
            (flag == "--accounts" ? o.accounts : flag == "--concurrency" ? o.concurrency : o.count) = *n;
            if (flag == "--count" && o.scenario == Scenario::Extdisco)
                return fail("the extdisco scenario takes --connections, not --count");
        } else if (flag == "--pairs" || flag == "--window" || flag == "--body-size") {
            const auto n = parse_number<std::uint32_t>(value);
            const std::uint32_t most = flag == "--pairs" ? 5'000'000 : flag == "--window" ? 100'000 : 65'536;
            if (!n || *n == 0 || *n > most) return bad("a number from 1 to " + std::to_string(most));
            (flag == "--pairs" ? o.pairs : flag == "--window" ? o.window : o.body_bytes) = *n;
            window_given = window_given || flag == "--window";
        } else if (flag == "--rate") {
            const auto rate = parse_number<double>(value);
            if (!rate || !std::isfinite(*rate) || *rate <= 0)
                return bad(o.scenario == Scenario::Mixed ? "events per second above 0" : "messages per second above 0");
            o.message_rate = *rate;
            rate_given = true;
        } else if (flag == "--duration" || flag == "--drain" || flag == "--interval") {
            const auto duration = parse_seconds(value);
            if (!duration) return bad("seconds");
            if (flag != "--drain" && duration->count() == 0) return bad("seconds above 0");
            (flag == "--duration" ? o.duration : flag == "--drain" ? o.drain : o.interval) = *duration;
        } else if (flag == "--service-type") {
            if (!is_simple_token(value)) return bad("a service type such as turn or stun");
            o.service_type = std::string(value);
        } else if (flag == "--credentials") {
            if (!is_simple_token(value)) return bad("a host name or IPv4 address");
            o.credentials_host = std::string(value);
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

    if (o.scenario == Scenario::Handshake) {
        if (transport_given && o.transport == Transport::Plain) return fail("the handshake scenario needs TLS, not --plain");
        o.transport = Transport::DirectTls;
    } else {
        if (o.user_prefix.empty()) return fail("--users PREFIX is required");
        if (o.password.empty()) return fail("--password is required");
    }
    if (o.scenario == Scenario::Message) {
        if (o.count != 0 || o.accounts != 0) return fail("the message scenario takes --pairs, not --count or --accounts");
        if (o.pairs == 0) return fail("--pairs is required");
        o.count = o.accounts = 2 * o.pairs;
        if (o.message_rate > 0 && !window_given) o.window = 100;
    }
    if (o.scenario == Scenario::Mixed && !rate_given) o.message_rate = 100;
    if (!o.credentials_host.empty() && o.service_type.empty())
        return fail("--credentials needs --service-type (the service's type, e.g. turns)");
    if (o.count == 0) return fail(o.scenario == Scenario::Extdisco ? "--connections is required" : "--count is required");
    if (o.accounts == 0) o.accounts = o.count;
    if (std::uint64_t{o.first} + o.accounts - 1 > 0xffffffffu) return fail("--first: the account numbers overflow");
    if (o.transport == Transport::Plain && o.channel_binding())
        return fail("--mechanism " + o.mechanism + " needs TLS (channel binding)");
    if (!sources_given && *parse_ipv4(o.host) >> 24 == 127) o.sources = AddressRange{0x7f000001, 0x7f00fffe};
    return std::optional<Options>{std::move(o)};
}

}  // namespace tern::loadgen
