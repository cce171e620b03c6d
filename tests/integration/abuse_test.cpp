// Abuse on a real ternd (issue 7): each attack gets its error or disconnect, the server's memory stays
// bounded, and a well-behaved pair of clients (the Canary) on the same server keeps getting its messages and
// IQ replies, each within Canary::reply_bound, while the attack goes on.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "canary.hpp"
#include "sasl/scram_client.hpp"
#include "tern_process.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__)
constexpr long rss_growth_bound_kib = 128 * 1024;  // ASan keeps freed memory resident in its quarantine
#else
constexpr long rss_growth_bound_kib = 32 * 1024;
#endif
const std::string stream_header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                                  "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='localhost'>";

long resident_kib(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    }
    throw std::runtime_error("no VmRSS for pid " + std::to_string(pid));
}

// A write that reports a connection the server has dropped instead of throwing.
bool try_send(XmppClient& client, std::string_view bytes)
{
    try {
        client.send(bytes);
        return true;
    } catch (const std::runtime_error&) {
        return false;
    }
}

std::size_t count_of(const std::string& text, const std::string& needle)
{
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

// The canary runs and the server's memory is noted before the abuse; finish() checks both afterwards and
// that the server is still there and still serving.
class Watched {
public:
    explicit Watched(TernProcess& server) : server_(server), canary_(server)
    {
        canary_.round();  // the first round allocates what later ones reuse
        rss_before_kib_ = resident_kib(server.pid());
        canary_.start();
    }

    // Quick abuses are repeated until the canary has done a few rounds alongside: at least `minimum`
    // passes, at most 20.
    bool another_pass(int passes_done, int minimum = 2)
    {
        return passes_done < minimum || (passes_done < 20 && canary_.rounds_so_far() < 5);
    }

    void finish()
    {
        const Canary::Report report = canary_.stop();
        INFO("canary: " << report.rounds << " rounds, slowest " << report.slowest.count() << " ms");
        const std::string first_failure = report.failures.empty() ? "" : report.failures.front();
        CHECK_MESSAGE(report.failures.empty(), first_failure);
        CHECK(report.rounds > 0);
        REQUIRE(server_.running());
        CHECK_NOTHROW(canary_.round());
        const long growth = resident_kib(server_.pid()) - rss_before_kib_;
        INFO("ternd RSS grew by " << growth << " KiB");
        CHECK(growth < rss_growth_bound_kib);
    }

private:
    TernProcess& server_;
    Canary canary_;
    long rss_before_kib_ = 0;
};

void start_with_canary(TernProcess& server)
{
    Canary::add_accounts(server);
    server.add_user("mallory@localhost", "mallory-pw");
    server.start();
}

// A client ready to misbehave: before its stream header, after it, or logged in (over TLS).
enum class Stage { BeforeHeader, AfterHeader, Bound };

std::unique_ptr<XmppClient> abuser(const TernProcess& server, Stage stage)
{
    auto client = std::make_unique<XmppClient>(server.starttls_port());
    if (stage == Stage::AfterHeader) client->open_stream();
    if (stage == Stage::Bound) client->login("mallory", "mallory-pw");
    return client;
}

// Every client writes `opening`, then `filler` over and over, round robin, until the server answers it (or
// hangs up) or `max_bytes` went out: far more than any limit allows, without writing into a server that has
// stopped reading.
void push_until_answered(const std::vector<XmppClient*>& clients, const std::string& opening, const std::string& filler,
                         std::size_t max_bytes)
{
    std::vector<std::size_t> sent(clients.size(), 0);
    std::vector<bool> done(clients.size(), false);
    for (std::size_t i = 0; i < clients.size(); ++i) {
        done[i] = !try_send(*clients[i], opening);
        sent[i] = opening.size();
    }
    for (bool any = true; any;) {
        any = false;
        for (std::size_t i = 0; i < clients.size(); ++i) {
            if (done[i]) continue;
            if (sent[i] >= max_bytes || clients[i]->readable(0ms) || !try_send(*clients[i], filler)) {
                done[i] = true;
                continue;
            }
            sent[i] += filler.size();
            any = true;
        }
    }
}

std::string numbered_attributes(std::string_view prefix, std::string_view value, int count)
{
    std::string out;
    for (int i = 0; i < count; ++i) out += " " + std::string(prefix) + std::to_string(i) + "='" + std::string(value) + "'";
    return out;
}

struct Flood {
    const char* name;
    std::vector<Stage> stages;
    std::string opening;
    std::string filler;
    const char* condition;
};

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("abuse: slowloris connections are closed at auth_timeout; the canary is served throughout")
    {
        TernProcess server;
        server.set("limits", "auth_timeout", "2");
        start_with_canary(server);
        Watched watched(server);

        // Half trickle the stream header, half send it whole and then trickle a stanza: a byte a second each.
        constexpr std::size_t count = 6;
        const std::string stanza = "<iq type='get' id='slow' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>";
        std::vector<std::unique_ptr<XmppClient>> slow;
        std::vector<const std::string*> trickle;
        std::vector<bool> still_open(count, true);
        for (std::size_t i = 0; i < count; ++i) {
            slow.push_back(std::make_unique<XmppClient>(server.starttls_port()));
            if (i % 2 == 1) REQUIRE(try_send(*slow.back(), stream_header));
            trickle.push_back(i % 2 == 0 ? &stream_header : &stanza);
        }
        const auto give_up = Clock::now() + 12s;
        std::size_t position = 0;
        for (; position < stanza.size() && Clock::now() < give_up; ++position) {
            const auto tick_end = Clock::now() + 1s;
            for (std::size_t i = 0; i < count; ++i) {
                if (still_open[i] && !try_send(*slow[i], trickle[i]->substr(position, 1))) still_open[i] = false;
            }
            for (std::size_t i = 0; i < count; ++i) {
                if (still_open[i] && slow[i]->wait_closed(150ms)) still_open[i] = false;
            }
            if (std::count(still_open.begin(), still_open.end(), true) == 0) break;
            std::this_thread::sleep_until(tick_end);
        }
        CHECK(std::count(still_open.begin(), still_open.end(), true) == 0);
        CHECK(position < stanza.size());  // closed while still trickling, not after finishing
        CHECK(count_of(server.log(), "condition=connection-timeout") >= count);
        watched.finish();
    }

    TEST_CASE("abuse: oversized stanzas, deep nesting and attribute floods get policy-violation; memory stays bounded")
    {
        TernProcess server;
        start_with_canary(server);
        Watched watched(server);

        // Six connections at once, each pushing up to 8 MiB: a server that buffered it all would outgrow the
        // memory bound.
        const std::vector<Stage> everywhere{Stage::AfterHeader, Stage::AfterHeader, Stage::AfterHeader,
                                            Stage::AfterHeader, Stage::Bound,       Stage::Bound};
        const std::vector<Stage> before_header(6, Stage::BeforeHeader);
        const std::vector<Flood> floods{
            {"a body far over max_stanza_bytes", everywhere, "<message to='canary-a@localhost'><body>",
             std::string(16384, 'a'), "policy-violation"},
            {"an attribute value far over max_stanza_bytes", everywhere, "<message to='", std::string(16384, 'a'),
             "policy-violation"},
            {"nesting far deeper than max_depth", everywhere, "<message>", [] {
                 std::string s;
                 for (int i = 0; i < 1000; ++i) s += "<a>";
                 return s;
             }(), "policy-violation"},
            {"thousands of attributes", everywhere, "<message", numbered_attributes("a", "x", 1000), "policy-violation"},
            {"thousands of namespace declarations", everywhere, "<message",
             numbered_attributes("xmlns:p", "urn:x", 1000), "policy-violation"},
            {"an element name far over the name limit", everywhere, "<", std::string(16384, 'n'), "policy-violation"},
            {"a stream header with thousands of attributes", before_header,
             "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'",
             numbered_attributes("a", "x", 1000), "policy-violation"},
            {"a stream header with a huge attribute value", before_header,
             "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='",
             std::string(16384, 'h'), "policy-violation"},
        };
        for (int pass = 0; watched.another_pass(pass, 1); ++pass) {
            for (const Flood& flood : floods) {
                CAPTURE(flood.name);
                std::vector<std::unique_ptr<XmppClient>> clients;
                std::vector<XmppClient*> raw;
                for (const Stage stage : flood.stages) {
                    clients.push_back(abuser(server, stage));
                    raw.push_back(clients.back().get());
                }
                push_until_answered(raw, flood.opening, flood.filler, 8 << 20);
                for (std::size_t i = 0; i < clients.size(); ++i) {
                    CAPTURE(i);
                    CHECK(clients[i]->expect_stream_error() == flood.condition);
                }
            }
        }
        watched.finish();
    }

    TEST_CASE("abuse: billion laughs gets restricted-xml and expands nothing")
    {
        TernProcess server;
        start_with_canary(server);
        Watched watched(server);

        std::string doctype = "<!DOCTYPE lolz [<!ENTITY lol0 'lol'>";
        for (int i = 1; i <= 9; ++i) {
            doctype += "<!ENTITY lol" + std::to_string(i) + " '";
            for (int j = 0; j < 10; ++j) doctype += "&lol" + std::to_string(i - 1) + ";";
            doctype += "'>";
        }
        doctype += "]>";
        const std::string laughs = "<message to='canary-a@localhost'><body>&lol9;</body></message>";

        for (int pass = 0; watched.another_pass(pass, 5); ++pass) {
            // As the prolog of the stream, where an XML parser would expect it.
            auto first = abuser(server, Stage::BeforeHeader);
            const std::string declaration = "<?xml version='1.0'?>";
            first->send(declaration + doctype + stream_header.substr(declaration.size()) + laughs);
            CHECK(first->expect_stream_error() == "restricted-xml");
            // Inside an open stream, before and after authentication.
            for (const Stage stage : {Stage::AfterHeader, Stage::Bound}) {
                auto client = abuser(server, stage);
                client->send(doctype + laughs);
                CHECK(client->expect_stream_error() == "restricted-xml");
            }
            // Without a DTD the reference is simply undefined.
            auto bare = abuser(server, Stage::Bound);
            bare->send(laughs);
            CHECK(bare->expect_stream_error() == "restricted-xml");
        }
        watched.finish();
    }

    TEST_CASE("abuse: invalid UTF-8 and NUL bytes get not-well-formed")
    {
        TernProcess server;
        start_with_canary(server);
        Watched watched(server);

        using namespace std::string_literals;
        const std::vector<std::string> stanzas{
            "<message><body>\xff\xfe</body></message>",
            "<message><body>\xc3\x28</body></message>",              // a lead byte without its continuation
            "<message><body>\xc0\xaf</body></message>",              // overlong '/'
            "<message><body>\xed\xa0\x80</body></message>",          // a UTF-16 surrogate
            "<message><body>\xf4\x90\x80\x80</body></message>",      // above U+10FFFF
            "<message><body>\xe2\x82</body></message>",              // truncated before '<'
            "<message to='a\xff@localhost'/>",                       // in an attribute value
            "<m\xc3" "essage/>",                                      // in an element name
            "<message><body>a\0b</body></message>"s,                 // NUL in text
            "<message to='a\0b@localhost'/>"s,                       // NUL in an attribute value
            "<message\0/>"s,                                         // NUL in a tag
            "<message><body>&#0;</body></message>",                  // NUL by character reference
            "<message><body>\x01\x1f</body></message>",              // other C0 controls
        };
        for (int pass = 0; watched.another_pass(pass); ++pass) {
            for (const Stage stage : {Stage::AfterHeader, Stage::Bound}) {
                for (const std::string& stanza : stanzas) {
                    CAPTURE(stanza);
                    auto client = abuser(server, stage);
                    client->send(stanza);
                    CHECK(client->expect_stream_error() == "not-well-formed");
                }
            }
            for (const std::string& header : {"<stream:stream\xff xmlns='jabber:client'>"s, "\0<stream:stream>"s,
                                             "<stream:stream to='local\0host' xmlns='jabber:client'>"s}) {
                CAPTURE(header);
                auto client = abuser(server, Stage::BeforeHeader);
                client->send(header);
                CHECK(client->expect_stream_error() == "not-well-formed");
            }
        }
        watched.finish();
    }

    TEST_CASE("abuse: a PROXY header where none is expected is not-well-formed XML, and not believed")
    {
        TernProcess server;
        start_with_canary(server);
        Watched watched(server);

        using namespace std::string_literals;
        const std::vector<std::string> headers{
            "PROXY TCP4 203.0.113.9 127.0.0.1 40000 5222\r\n",
            "PROXY UNKNOWN\r\n",
            "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xcb\x00\x71\x09\x7f\x00\x00\x01\x9c\x40\x14\x66"s,  // version 2
        };
        for (int pass = 0; watched.another_pass(pass); ++pass) {
            for (const std::string& header : headers) {
                CAPTURE(header);
                auto client = abuser(server, Stage::BeforeHeader);
                client->send(header + stream_header);
                CHECK(client->expect_stream_error() == "not-well-formed");
                // On the direct TLS port it is not a ClientHello.
                XmppClient direct(server.direct_tls_port());
                direct.send(header);
                CHECK(direct.wait_closed());
            }
        }
        CHECK(server.log().find("ip=203.0.113.9") == std::string::npos);
        watched.finish();
    }

    TEST_CASE("abuse: TLS handshakes that stop halfway or get garbage are closed; the canary is served throughout")
    {
        TernProcess server;
        server.set("limits", "auth_timeout", "2");
        start_with_canary(server);
        Watched watched(server);

        std::vector<std::pair<std::string, std::unique_ptr<XmppClient>>> clients;
        for (int i = 0; i < 3; ++i) {
            auto direct = std::make_unique<XmppClient>(server.direct_tls_port());
            direct->send_client_hello(TlsOptions::with_alpn("xmpp-client"));
            clients.emplace_back("direct TLS, ClientHello then silence", std::move(direct));

            auto starttls = std::make_unique<XmppClient>(server.starttls_port());
            starttls->open_stream();
            starttls->send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
            REQUIRE(starttls->next_stanza().name() == "proceed");
            starttls->send_client_hello();
            clients.emplace_back("STARTTLS, ClientHello then silence", std::move(starttls));
        }
        auto silent = std::make_unique<XmppClient>(server.direct_tls_port());
        clients.emplace_back("direct TLS, not a byte", std::move(silent));

        auto garbage = std::make_unique<XmppClient>(server.starttls_port());
        garbage->open_stream();
        garbage->send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        REQUIRE(garbage->next_stanza().name() == "proceed");
        garbage->send("<iq type='get' id='not-tls'/>" + std::string(4096, 'g'));
        clients.emplace_back("STARTTLS, then garbage", std::move(garbage));

        auto direct_garbage = std::make_unique<XmppClient>(server.direct_tls_port());
        direct_garbage->send(std::string(4096, '\x16'));
        clients.emplace_back("direct TLS, garbage records", std::move(direct_garbage));

        for (auto& [what, client] : clients) {
            CAPTURE(what);
            CHECK(client->wait_closed(10s));
        }
        watched.finish();
    }

    TEST_CASE("abuse: clients that never read while others message them are cut off; the canary is served throughout")
    {
        TernProcess server;
        server.set("limits", "max_outbox_bytes", "65536");
        server.add_user("sink@localhost", "pw");
        start_with_canary(server);
        XmppClient sink(server.starttls_port());
        REQUIRE(sink.login("sink", "pw", "plain") == "sink@localhost/plain");
        // With stream management the server also keeps what it sent until acknowledged: bounded too.
        XmppClient resumable(server.starttls_port());
        REQUIRE(resumable.login("sink", "pw", "sm") == "sink@localhost/sm");
        resumable.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
        REQUIRE(resumable.next_stanza().name() == "enabled");
        Watched watched(server);

        XmppClient talker(server.starttls_port());
        REQUIRE(talker.login("mallory", "mallory-pw", "t") == "mallory@localhost/t");
        const std::string body(8000, 'z');
        const auto both_cut_off = [&] {
            const std::string log = server.log();
            return log.find("event=c2s.outbox_full") != std::string::npos &&
                   log.find("too many unacknowledged stanzas") != std::string::npos;
        };
        bool cut_off = false;
        for (int i = 0; i < 4000 && !cut_off; ++i) {
            const char* to = i % 2 == 0 ? "sink@localhost/plain" : "sink@localhost/sm";
            talker.send("<message to='" + std::string(to) + "' type='chat'><body>" + body + "</body></message>");
            while (talker.readable(0ms)) talker.next(1s);  // bounces, once the sinks are gone
            if (i % 50 == 49) cut_off = both_cut_off();
        }
        CHECK(both_cut_off());
        CHECK(sink.wait_closed());
        CHECK(resumable.wait_closed());
        watched.finish();
    }

    TEST_CASE("abuse: connection floods beyond max_connections_per_ip are refused; other addresses are served")
    {
        TernProcess server;
        server.set("limits", "max_connections_per_ip", "3");
        start_with_canary(server);  // the canary's two connections come from 127.0.0.1
        Watched watched(server);

        // From one address: only the first three get a stream.
        std::vector<std::unique_ptr<XmppClient>> flood;
        for (int i = 0; i < 40; ++i) {
            flood.push_back(XmppClient::from_address(server.starttls_port(), "127.0.0.9"));
            try_send(*flood.back(), stream_header);
        }
        int admitted = 0;
        int refused = 0;
        for (auto& client : flood) {
            const Received r = client->next(5s);
            if (r.kind == xml::EventKind::StreamOpen) ++admitted;
            if (r.closed()) ++refused;
        }
        CHECK(admitted == 3);
        CHECK(refused == 37);

        // Many addresses, each under the limit: all served, memory bounded.
        std::vector<std::unique_ptr<XmppClient>> crowd;
        for (int i = 0; i < 300; ++i) {
            const std::string source = "127.0." + std::to_string(10 + i / 200) + "." + std::to_string(1 + i % 200);
            crowd.push_back(XmppClient::from_address(server.starttls_port(), source));
            try_send(*crowd.back(), stream_header);
        }
        int served = 0;
        for (auto& client : crowd) served += client->next(5s).kind == xml::EventKind::StreamOpen;
        CHECK(served == 300);
        watched.finish();

        // The slots come back when the connections go.
        flood.clear();
        bool admitted_again = false;
        for (int attempt = 0; attempt < 100 && !admitted_again; ++attempt) {
            auto again = XmppClient::from_address(server.starttls_port(), "127.0.0.9");
            try_send(*again, stream_header);
            admitted_again = again->next(5s).kind == xml::EventKind::StreamOpen;
            if (!admitted_again) std::this_thread::sleep_for(20ms);
        }
        CHECK(admitted_again);
    }

    TEST_CASE("abuse: guesses started side by side get no more prompt answers than the failure budget")
    {
        TernProcess server;
        server.set("limits", "max_auth_failures_per_minute", "2");
        server.set("limits", "auth_failure_max_delay", "2");
        server.add_user("victim@localhost", "correct horse");
        start_with_canary(server);
        Watched watched(server);

        // Each connection starts a SCRAM exchange before any of them has failed; then all send a proof at
        // once. Only the budget's worth of answers may come promptly: the others wait, so a guesser learns
        // no more than the budget per delay.
        constexpr int connections = 8;
        std::vector<std::unique_ptr<XmppClient>> guessers;
        std::vector<std::unique_ptr<sasl::ScramClient>> exchanges;
        for (int i = 0; i < connections; ++i) {
            guessers.push_back(XmppClient::from_address(server.starttls_port(), "127.0.0.2"));
            guessers.back()->open_stream();
            guessers.back()->starttls();
            exchanges.push_back(
                std::make_unique<sasl::ScramClient>(crypto::Hash::Sha256, "victim", "guess " + std::to_string(i)));
            guessers.back()->send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>" +
                                  crypto::base64_encode(exchanges.back()->client_first()) + "</auth>");
        }
        std::vector<std::string> finals;
        for (int i = 0; i < connections; ++i) {
            const xml::Stanza challenge = guessers[i]->next_stanza();
            REQUIRE(challenge.name() == "challenge");
            auto final_message = exchanges[i]->client_final(*crypto::base64_decode(challenge.root().text()));
            REQUIRE(final_message);
            finals.push_back("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + crypto::base64_encode(*final_message) +
                             "</response>");
        }
        const auto sent = Clock::now();
        for (int i = 0; i < connections; ++i) guessers[i]->send(finals[i]);
        // When each answer arrives (polled every 10 ms; load can only make that later, never earlier).
        std::vector<Clock::duration> arrival(connections, Clock::duration::max());
        for (int answered = 0; answered < connections && Clock::now() - sent < 20s;) {
            for (int i = 0; i < connections; ++i) {
                if (arrival[i] != Clock::duration::max() || !guessers[i]->readable(0ms)) continue;
                arrival[i] = Clock::now() - sent;
                ++answered;
                const xml::Stanza reply = guessers[i]->next_stanza();
                CHECK(reply.name() == "failure");
                CHECK(reply.root().first_child_element().name() == "not-authorized");
            }
            std::this_thread::sleep_for(10ms);
        }
        // Every guess is answered (wrong): delayed, never refused; beyond the budget, not promptly.
        CHECK(std::count(arrival.begin(), arrival.end(), Clock::duration::max()) == 0);
        CHECK(std::count_if(arrival.begin(), arrival.end(), [](auto t) { return t < 900ms; }) <= 2);
        watched.finish();
    }

// Not in sanitizer builds: their runtimes need descriptors too (UBSan probes memory through pipe(2)), so a
// ternd starved of them reports errors that are not there.
#if !defined(__SANITIZE_ADDRESS__)
    TEST_CASE("abuse: a connection flood past ternd's descriptor limit; accepting resumes when it ends")
    {
        TernProcess server;
        start_with_canary(server);
        Watched watched(server);

        // Leave ternd room for a few dozen more descriptors, then open more connections than that.
        const std::filesystem::path descriptors = "/proc/" + std::to_string(server.pid()) + "/fd";
        const auto open_descriptors =
            std::distance(std::filesystem::directory_iterator(descriptors), std::filesystem::directory_iterator{});
        const rlimit limit{static_cast<rlim_t>(open_descriptors + 32), static_cast<rlim_t>(open_descriptors + 32)};
        REQUIRE(::prlimit(server.pid(), RLIMIT_NOFILE, &limit, nullptr) == 0);
        std::vector<std::unique_ptr<XmppClient>> flood;
        for (int i = 0; i < 64; ++i) {
            flood.push_back(XmppClient::from_address(server.starttls_port(), "127.0.20." + std::to_string(1 + i)));
            try_send(*flood.back(), stream_header);
        }
        CHECK(server.wait_for_log("event=c2s.accept_failed"));
        // The connections that got in try to log in while ternd has no descriptor to spare (for TLS, the
        // account store): whatever they get, ternd must stay up.
        for (auto& client : flood) {
            if (!client->readable(0ms)) continue;
            try {
                client->next(1s);
                client->next(1s);
                client->starttls();
                client->scram("SCRAM-SHA-256", "mallory", "mallory-pw");
            } catch (const std::runtime_error&) {
            }
        }
        CHECK(server.running());
        flood.clear();

        // Connections that waited in the backlog come and go; new ones are served again.
        for (int i = 0; i < 5; ++i) {
            auto late = XmppClient::from_address(server.starttls_port(), "127.0.21." + std::to_string(1 + i));
            CHECK(late->open_stream().name() == "features");
        }
        watched.finish();
    }
#endif

    TEST_CASE("abuse: password guessing past the failure budget is slowed down, and locks out nobody")
    {
        TernProcess server;
        server.set("limits", "max_auth_failures_per_minute", "2");
        server.set("limits", "auth_failure_max_delay", "2");
        server.add_user("victim@localhost", "correct horse");
        server.add_user("neighbour@localhost", "own password");
        start_with_canary(server);
        Watched watched(server);

        const auto secured = [&](const std::string& source) {
            auto client = XmppClient::from_address(server.starttls_port(), source);
            client->open_stream();
            client->starttls();
            return client;
        };
        auto guesser = secured("127.0.0.2");
        CHECK(guesser->scram("SCRAM-SHA-256", "victim", "guess 1") == "not-authorized");
        CHECK(guesser->scram("SCRAM-SHA-256", "victim", "guess 2") == "not-authorized");

        // Over the budget: every further answer from 127.0.0.2 waits (1 s, then 2 s), wrong or right.
        for (int i = 0; i < 3; ++i) {
            auto again = secured("127.0.0.2");
            const auto started = Clock::now();
            CHECK(again->scram("SCRAM-SHA-256", "victim", "guess " + std::to_string(3 + i)) == "not-authorized");
            CHECK(Clock::now() - started >= 900ms);
        }
        // The right password from the guesser's own address is answered, after the delay: not refused.
        auto owner = secured("127.0.0.2");
        const auto started = Clock::now();
        owner->send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                    crypto::base64_encode(std::string("\0victim\0correct horse", 21)) + "</auth>");
        CHECK(owner->next_stanza(10s).name() == "success");
        CHECK(Clock::now() - started >= 900ms);
        // Someone else at that address, with another account: in, slowed by the address's failures only.
        auto neighbour = XmppClient::from_address(server.starttls_port(), "127.0.0.2");
        CHECK(neighbour->login("neighbour", "own password", "n") == "neighbour@localhost/n");
        // The victim from another address: the account is slowed by the failures too, never locked.
        auto elsewhere = XmppClient::from_address(server.starttls_port(), "127.0.0.3");
        CHECK(elsewhere->login("victim", "correct horse", "r") == "victim@localhost/r");
        CHECK(server.log().find("too many failed authentication attempts") == std::string::npos);
        watched.finish();
    }
}
