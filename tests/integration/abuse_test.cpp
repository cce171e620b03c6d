// Abuse on a real ternd (issue 7): each attack gets its error or disconnect, the server's memory stays
// bounded, and a well-behaved pair of clients (the Canary) on the same server keeps getting its messages and
// IQ replies, each within Canary::reply_bound, while the attack goes on.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
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

    // Returns the canary's report (its slowest round is the figure docs/reliability.md quotes).
    Canary::Report finish()
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
        return report;
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

// Enables XEP-0198 with resumption; returns the resumption id.
std::string enable_resumption(XmppClient& client)
{
    client.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    const xml::Stanza enabled = client.next_stanza();
    REQUIRE(enabled.name() == "enabled");
    return std::string(enabled.attr("id"));
}

// Authenticated on a new stream, ready to send <resume/>.
std::unique_ptr<XmppClient> resuming_client(const TernProcess& server, const std::string& user, const std::string& pw)
{
    auto client = std::make_unique<XmppClient>(server.starttls_port());
    client->open_stream();
    client->starttls();
    REQUIRE(client->scram("SCRAM-SHA-256", user, pw) == "success");
    client->open_stream();
    return client;
}

// The defined condition of a stanza error, "" when there is none.
std::string error_condition(const xml::Stanza& stanza)
{
    for (const xml::Element e : stanza.root().children()) {
        if (e.name() != "error") continue;
        for (const xml::Element c : e.children())
            if (c.ns() == "urn:ietf:params:xml:ns:xmpp-stanzas" && c.name() != "text") return std::string(c.name());
    }
    return {};
}

// Errors coming back to a sender: bounces for resource-constraint (type wait), and anything else.
// Usable from a thread of its own (no doctest macros).
struct Replies {
    std::vector<std::string> bounced;  // ids
    std::vector<std::string> other;    // descriptions
    std::vector<xml::Stanza> results;  // non-error stanzas

    // Reads what is there now, then waits up to `quiet` for more each time.
    void drain(XmppClient& client, std::chrono::milliseconds quiet)
    {
        while (client.readable(quiet))
            if (!take(client.next(5s))) return;
    }

    // False once the connection is closed.
    bool take(Received r)
    {
        if (r.closed()) {
            other.push_back("closed");
            return false;
        }
        if (!r.stanza) return true;
        const xml::Stanza& s = *r.stanza;
        if (s.type() != "error") {
            results.push_back(std::move(*r.stanza));
            return true;
        }
        const std::string condition = error_condition(s);
        const bool wait = s.root().child("error", "jabber:client").attr("type") == "wait";
        if (condition == "resource-constraint" && wait)
            bounced.emplace_back(s.id());
        else
            other.push_back(std::string(s.name()) + " error " + condition + " id=" + std::string(s.id()));
        return true;
    }
};

// Messages numbered f0, f1, ... read by a client with stream management (answering <r/>) until `done`
// and nothing came for `quiet`.
struct Inbox {
    std::vector<int> ids;
    std::uint32_t h = 0;  // stanzas handled
    bool closed = false;
};
Inbox read_messages(XmppClient& client, const std::atomic<bool>& done, std::chrono::milliseconds quiet)
{
    Inbox inbox;
    auto last = Clock::now();
    const auto give_up = Clock::now() + 120s;
    while (Clock::now() < give_up) {
        if (!client.readable(100ms)) {
            if (done && Clock::now() - last > quiet) break;
            continue;
        }
        const Received r = client.next(5s);
        if (r.closed()) {
            inbox.closed = true;
            break;
        }
        last = Clock::now();
        if (!r.stanza) continue;
        const xml::Stanza& s = *r.stanza;
        if (s.name() == "r") {
            client.send("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(inbox.h) + "'/>");
            continue;
        }
        if (s.name() != "message" && s.name() != "iq" && s.name() != "presence") continue;
        ++inbox.h;
        if (s.name() == "message" && s.id().starts_with("f")) inbox.ids.push_back(std::stoi(std::string(s.id().substr(1))));
    }
    return inbox;
}

// Each of `total` messages either reached the recipient, once and in order, or went back to its sender as
// resource-constraint, and some of each.
void check_accounted(const Inbox& inbox, const Replies& to_sender, std::size_t total)
{
    INFO("recipient got " << inbox.ids.size() << ", sender got " << to_sender.bounced.size() << " bounces");
    CHECK_MESSAGE(to_sender.other.empty(), (to_sender.other.empty() ? "" : to_sender.other.front()));
    CHECK(!to_sender.bounced.empty());
    CHECK(!inbox.ids.empty());
    CHECK(inbox.ids.size() + to_sender.bounced.size() == total);
    CHECK(std::is_sorted(inbox.ids.begin(), inbox.ids.end()));
    CHECK(std::adjacent_find(inbox.ids.begin(), inbox.ids.end()) == inbox.ids.end());
}

// The number of items in the client's roster; what else arrives meanwhile goes to `replies`.
std::size_t roster_size(XmppClient& client, Replies& replies)
{
    client.send("<iq type='get' id='roster-size'><query xmlns='jabber:iq:roster'/></iq>");
    while (client.readable(10s)) {
        Received r = client.next(5s);
        if (r.stanza && r.stanza->name() == "iq" && r.stanza->id() == "roster-size")
            return r.stanza->root().child("query", "jabber:iq:roster").child_count();
        if (!replies.take(std::move(r))) break;
    }
    throw std::runtime_error("no roster result");
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

    TEST_CASE("abuse: clients that read nothing for outbox_stall_timeout are cut off; the canary is served throughout")
    {
        TernProcess server;
        server.set("limits", "max_outbox_bytes", "65536");
        server.set("limits", "outbox_stall_timeout", "2");
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
        const auto both_cut_off = [&] { return count_of(server.log(), "event=c2s.outbox_stalled") >= 2; };
        bool cut_off = false;
        const auto until = Clock::now() + 30s;
        for (int i = 0; !cut_off && Clock::now() < until; ++i) {
            const char* to = i % 2 == 0 ? "sink@localhost/plain" : "sink@localhost/sm";
            talker.send("<message to='" + std::string(to) + "' type='chat'><body>" + body + "</body></message>");
            while (talker.readable(0ms)) talker.next(1s);  // bounces
            if (i % 50 == 49) {
                cut_off = both_cut_off();
                std::this_thread::sleep_for(20ms);
            }
        }
        CHECK(both_cut_off());
        CHECK(sink.wait_closed());
        CHECK(resumable.wait_closed());
        watched.finish();
    }

    TEST_CASE("abuse: a flood to a slow reader costs the sender: the reader stays connected and resumable, the rest "
              "bounces with resource-constraint; the canary is served throughout")
    {
        // Issue 12 item 1: 300 messages of 60 KB to a full JID whose client does not read for a few seconds.
        TernProcess server;
        server.set("limits", "max_outbox_bytes", "65536");
        server.add_user("bob@localhost", "pw");
        start_with_canary(server);
        XmppClient bob(server.starttls_port());
        REQUIRE(bob.login("bob", "pw", "slow") == "bob@localhost/slow");
        const std::string previd = enable_resumption(bob);
        Watched watched(server);

        XmppClient alice(server.starttls_port());
        REQUIRE(alice.login("mallory", "mallory-pw", "flood") == "mallory@localhost/flood");
        constexpr int total = 300;
        const std::string body(60 * 1024, 'f');
        std::atomic<bool> sent_all{false};
        Replies to_alice;
        Clock::duration sending{};
        std::thread flood([&] {
            try {
                const auto started = Clock::now();
                for (int i = 0; i < total; ++i) {
                    alice.send("<message to='bob@localhost/slow' type='chat' id='f" + std::to_string(i) + "'><body>" +
                               body + "</body></message>");
                    to_alice.drain(alice, 0ms);
                }
                sending = Clock::now() - started;
                sent_all = true;
                to_alice.drain(alice, 3s);
            } catch (const std::exception& e) {
                to_alice.other.push_back(std::string("alice: ") + e.what());
                sent_all = true;
            }
        });
        std::this_thread::sleep_for(3s);  // bob's client is slow to read
        const Inbox inbox = read_messages(bob, sent_all, 3s);
        flood.join();

        CHECK_FALSE(inbox.closed);
        check_accounted(inbox, to_alice, total);
        CHECK(server.log().find("event=c2s.outbox_full") == std::string::npos);

        // His resumption is intact: a dropped connection resumes.
        bob.reset_connection();
        REQUIRE(server.wait_for_log("event=c2s.detached"));
        auto back = resuming_client(server, "bob", "pw");
        back->send("<resume xmlns='urn:xmpp:sm:3' previd='" + previd + "' h='" + std::to_string(inbox.h) + "'/>");
        CHECK(back->next_stanza().name() == "resumed");
        const Canary::Report canary = watched.finish();
        const double seconds = std::chrono::duration<double>(sending).count();
        MESSAGE("figures: bob received " << inbox.ids.size() << ", alice got " << to_alice.bounced.size()
                << " resource-constraint bounces; alice sent " << total * body.size() / 1024 << " KiB in " << seconds
                << " s (" << total * body.size() / 1024 / seconds << " KiB/s); canary " << canary.rounds
                << " rounds, slowest " << canary.slowest.count() << " ms");
    }

    TEST_CASE("abuse: stanzas for a detached session are bounded: its resumption survives, what does not fit bounces "
              "with resource-constraint; the canary is served throughout")
    {
        // Issue 12 item 6: the queue waiting for a resumption.
        TernProcess server;
        server.set("limits", "max_outbox_bytes", "65536");
        server.add_user("bob@localhost", "pw");
        start_with_canary(server);
        std::string previd;
        {
            XmppClient phone(server.starttls_port());
            REQUIRE(phone.login("bob", "pw", "phone") == "bob@localhost/phone");
            previd = enable_resumption(phone);
            phone.reset_connection();
        }
        REQUIRE(server.wait_for_log("event=c2s.detached"));
        Watched watched(server);

        XmppClient alice(server.starttls_port());
        REQUIRE(alice.login("mallory", "mallory-pw", "a") == "mallory@localhost/a");
        constexpr int total = 40;
        const std::string body(8000, 'q');
        Replies to_alice;
        for (int i = 0; i < total; ++i) {
            alice.send("<message to='bob@localhost/phone' type='chat' id='f" + std::to_string(i) + "'><body>" + body +
                       "</body></message>");
            to_alice.drain(alice, 0ms);
        }
        to_alice.drain(alice, 2s);

        auto back = resuming_client(server, "bob", "pw");
        back->send("<resume xmlns='urn:xmpp:sm:3' previd='" + previd + "' h='0'/>");
        REQUIRE(back->next_stanza().name() == "resumed");
        const std::atomic<bool> done{true};
        const Inbox inbox = read_messages(*back, done, 2s);

        check_accounted(inbox, to_alice, total);
        const Canary::Report canary = watched.finish();
        MESSAGE("figures: resumed with " << inbox.ids.size() << " of " << total << " messages, "
                << to_alice.bounced.size() << " bounced; canary " << canary.rounds << " rounds, slowest "
                << canary.slowest.count() << " ms");
    }

    TEST_CASE("abuse: subscription requests cannot grow a roster past its cap, nor store more than a few KiB; the "
              "canary is served throughout")
    {
        // Issue 12 item 3.
        TernProcess server;
        server.add_user("bob@localhost", "pw");
        server.add_user("carol@localhost", "pw");
        start_with_canary(server);
        Watched watched(server);
        constexpr int cap = 1000;  // server::max_roster_items

        // Outbound: bob asks more JIDs than the cap for their presence (no such accounts).
        XmppClient bob(server.starttls_port());
        REQUIRE(bob.login("bob", "pw", "b") == "bob@localhost/b");
        Replies to_bob;
        for (int i = 0; i < cap + 10; ++i) {
            bob.send("<presence type='subscribe' to='nobody" + std::to_string(i) + "@localhost'/>");
            to_bob.drain(bob, 0ms);
        }
        CHECK(roster_size(bob, to_bob) == cap);
        CHECK(to_bob.bounced.size() == 10);
        CHECK(to_bob.other.empty());

        // Inbound: a request to bob's full roster is refused as well, not kept aside for him.
        XmppClient mallory(server.starttls_port());
        REQUIRE(mallory.login("mallory", "mallory-pw", "m") == "mallory@localhost/m");
        const std::string nick = "<nick xmlns='http://jabber.org/protocol/nick'>Mallory</nick>";
        const std::string big_status = "<status>" + std::string(200 * 1024, 's') + "</status>";
        mallory.send("<presence type='subscribe' to='bob@localhost'>" + big_status + nick + "</presence>");
        Replies to_mallory;
        to_mallory.drain(mallory, 2s);
        CHECK(to_mallory.bounced.size() == 1);
        bob.send("<presence/>");
        bool request_replayed = false;
        while (bob.readable(1s)) {
            const Received r = bob.next();
            if (r.stanza && r.stanza->name() == "presence" && r.stanza->type() == "subscribe") request_replayed = true;
        }
        CHECK_FALSE(request_replayed);

        // A pending request is stored in a few KiB, the nickname kept (XEP-0172), and replayed as that.
        mallory.send("<presence type='subscribe' to='carol@localhost'>" + big_status + nick + "</presence>");
        to_mallory.drain(mallory, 1s);
        XmppClient carol(server.starttls_port());
        REQUIRE(carol.login("carol", "pw", "c") == "carol@localhost/c");
        carol.send("<presence/>");
        std::optional<Received> request;
        while (!request && carol.readable(5s)) {
            Received r = carol.next();
            if (r.closed()) break;
            if (r.stanza && r.stanza->name() == "presence" && r.stanza->type() == "subscribe") request = std::move(r);
        }
        REQUIRE(request);
        CHECK(request->stanza->from() == "mallory@localhost");
        CHECK(request->bytes.size() <= 4096);
        CHECK(request->stanza->root().child("nick", "http://jabber.org/protocol/nick").text() == "Mallory");
        const Canary::Report canary = watched.finish();
        MESSAGE("figures: roster capped at " << cap << ", " << to_bob.bounced.size() << " + " << to_mallory.bounced.size()
                << " requests refused; a " << big_status.size() / 1024 << " KiB request replayed as "
                << request->bytes.size() << " bytes; canary " << canary.rounds << " rounds, slowest "
                << canary.slowest.count() << " ms");
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
