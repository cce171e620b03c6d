// The c2s state machine in memory: scripted client bytes in, server bytes and actions out (no sockets).
#include <doctest/doctest.h>

#include <map>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include "envelopes.hpp"
#include "sasl/scram_client.hpp"
#include "server/iq_dispatcher.hpp"
#include "server/session.hpp"
#include "xmpp/ns.hpp"

using namespace tern;
using tern::server::Session;

namespace {

constexpr std::string_view header_to_localhost =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "version='1.0' to='localhost'>";

struct FakeHost : server::SessionHost {
    std::map<std::string, std::string> passwords{{"alice", "wonderland"}};
    std::chrono::milliseconds delay{0};  // what auth_checked() answers
    int failures = 0;
    std::vector<std::string> checked;  // accounts whose password was checked
    std::vector<std::string> bound;
    std::vector<std::string> routed;
    server::BindOutcome bind_outcome = server::BindOutcome::Bound;

    std::optional<crypto::ScramKeys> scram_keys(std::string_view domain, std::string_view local, crypto::Hash hash) override
    {
        if (domain != "localhost") return std::nullopt;
        auto it = passwords.find(std::string(local));
        if (it == passwords.end()) return std::nullopt;
        return crypto::derive_scram_keys(hash, it->second, "salt-for-" + it->first, 4096);
    }
    std::chrono::milliseconds auth_checked(const std::string& account, bool failed) override
    {
        checked.push_back(account);
        failures += failed;
        return delay;
    }
    server::BindOutcome bind(const xmpp::Jid& full) override
    {
        bound.push_back(full.str());
        return bind_outcome;
    }
    // Unless set, every stanza is routed at once. It returns false to leave the stanza's handling pending.
    std::function<bool(xml::Stanza&&)> on_route;
    bool route(xml::Stanza&& stanza) override
    {
        routed.push_back(stanza.serialize());
        return on_route ? on_route(std::move(stanza)) : true;
    }
    std::vector<std::string> resumable;
    void enable_resumption(std::string_view id) override { resumable.emplace_back(id); }
};

std::shared_ptr<const server::SessionConfig> make_config(bool require_tls = true)
{
    auto config = std::make_shared<server::SessionConfig>();
    config->domains = {"localhost"};
    config->require_tls = require_tls;
    config->sasl_mechanisms = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"};
    return config;
}

server::TlsInfo fake_tls()
{
    return {{{"tls-exporter", std::string(32, '\x42')}}, "localhost"};
}

std::string between(const std::string& s, std::string_view open, std::string_view close)
{
    const auto a = s.find(open);
    if (a == std::string::npos) return {};
    const auto b = s.find(close, a + open.size());
    return s.substr(a + open.size(), b - a - open.size());
}

std::string sasl_text(const std::string& output, std::string_view element)
{
    return between(output, std::string("<") + std::string(element) + " xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>",
                   std::string("</") + std::string(element) + ">");
}

// Drives a session through TLS and a SCRAM-SHA-256 login; returns the output of the restarted stream.
struct Harness {
    FakeHost host;
    Session session;
    explicit Harness(bool direct_tls = true, bool require_tls = true)
        : session(make_config(require_tls), host, direct_tls ? std::optional(fake_tls()) : std::nullopt)
    {
    }
    explicit Harness(std::shared_ptr<const server::SessionConfig> config) : session(std::move(config), host, fake_tls()) {}
    std::string feed(std::string_view bytes)
    {
        session.receive(bytes);
        return session.take_output();
    }
    // feed(), with the blocking steps (a SCRAM lookup, PLAIN) carried out as the connection does.
    std::string feed_running(std::string_view bytes)
    {
        session.receive(bytes);
        while (session.action() == Session::Action::RunBlocking) session.blocking_done(session.take_blocking_job()());
        return session.take_output();
    }
    std::string login(const std::string& user = "alice", const std::string& password = "wonderland",
                      std::string_view mechanism = "SCRAM-SHA-256")
    {
        feed(header_to_localhost);
        sasl::ScramClient client(mechanism == "SCRAM-SHA-1" ? crypto::Hash::Sha1 : crypto::Hash::Sha256, user, password);
        std::string out = feed_running("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + std::string(mechanism) +
                               "'>" + crypto::base64_encode(client.client_first()) + "</auth>");
        const auto server_first = crypto::base64_decode(sasl_text(out, "challenge"));
        REQUIRE(server_first);
        const auto final_message = client.client_final(*server_first);
        REQUIRE(final_message);
        out = feed("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + crypto::base64_encode(*final_message) +
                   "</response>");
        if (out.find("<success") != std::string::npos) {
            const auto server_final = crypto::base64_decode(sasl_text(out, "success"));
            REQUIRE(server_final);
            CHECK(client.verify_server_final(*server_final));
        }
        return out;
    }
    // Logged in, stream restarted, resource bound; returns nothing (the output is consumed).
    void bind(const std::string& resource = "r")
    {
        login();
        feed(header_to_localhost);
        const std::string bound = feed("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" +
                                       resource + "</resource></bind></iq>");
        REQUIRE(bound.find("<jid>") != std::string::npos);
    }
    // Bound with stream management enabled; returns the <enabled/> element.
    std::string enable(std::string_view attrs = " resume='true'")
    {
        bind();
        return feed("<enable xmlns='urn:xmpp:sm:3'" + std::string(attrs) + "/>");
    }
};

constexpr std::string_view r_request = "<r xmlns='urn:xmpp:sm:3'/>";

// Routed stanzas as the router hands them over, one envelope each.
void deliver(Session& session, std::string_view stanzas)
{
    session.deliver(test::envelopes(stanzas));
}

std::string unacked_text(const std::vector<server::Unacked>& unacked)
{
    std::string out;
    for (const auto& u : unacked) out += u.stanza.bytes();
    return out;
}

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("session requires STARTTLS first and hands the handshake to the connection")
    {
        Harness h(/*direct_tls=*/false);
        const std::string out = h.feed(header_to_localhost);
        CHECK(out.find("<stream:stream") != std::string::npos);
        CHECK(out.find("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>") != std::string::npos);
        CHECK(out.find("mechanisms") == std::string::npos);

        CHECK(h.feed("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>") == "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        CHECK(h.session.action() == Session::Action::StartTls);

        h.session.tls_established(fake_tls());
        CHECK(h.session.action() == Session::Action::None);
        CHECK(h.session.state() == Session::State::AwaitingStreamHeader);
        const std::string restarted = h.feed(header_to_localhost);
        CHECK(restarted.find("<mechanism>SCRAM-SHA-256-PLUS</mechanism>") != std::string::npos);
        CHECK(restarted.find("<mechanism>PLAIN</mechanism>") != std::string::npos);
        CHECK(restarted.find("<channel-binding type='tls-exporter'/>") != std::string::npos);
        CHECK(restarted.find("starttls") == std::string::npos);
    }

    TEST_CASE("session refuses bytes pipelined after <starttls/>")
    {
        Harness h(false);
        h.feed(header_to_localhost);
        const std::string out = h.feed("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><presence/>");
        CHECK(out.find("<policy-violation") != std::string::npos);
        CHECK(h.session.action() == Session::Action::Close);
    }

    TEST_CASE("session logs in with SCRAM, restarts the stream and binds")
    {
        Harness h;
        const std::string success = h.login();
        CHECK(success.find("<success") != std::string::npos);
        CHECK(h.session.authenticated());
        CHECK(h.session.jid().str() == "alice@localhost");
        CHECK(h.session.state() == Session::State::AwaitingStreamHeader);

        const std::string features = h.feed(header_to_localhost);
        CHECK(features.find("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>") != std::string::npos);

        const std::string bound =
            h.feed("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>Home</resource></bind></iq>");
        CHECK(bound == "<iq type='result' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@localhost/Home</jid></bind></iq>");
        CHECK(h.host.bound == std::vector<std::string>{"alice@localhost/Home"});
        CHECK(h.session.state() == Session::State::Bound);
    }

    TEST_CASE("session accepts the whole login fed one byte at a time")
    {
        Harness h;
        h.login();
        std::string out;
        const std::string script = std::string(header_to_localhost) +
            "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";
        for (char c : script) out += h.feed(std::string_view(&c, 1));
        CHECK(out.find("<jid>alice@localhost/tern-") != std::string::npos);
        CHECK(h.session.state() == Session::State::Bound);
    }

    TEST_CASE("session stamps from on routed stanzas and rejects a forged one")
    {
        Harness h;
        h.login();
        h.feed(header_to_localhost);
        h.feed("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>");
        h.feed("<message to='bob@localhost'><body>hi</body></message>");
        REQUIRE(h.host.routed.size() == 1);
        CHECK(h.host.routed[0].find("from=\"alice@localhost/r\"") != std::string::npos);

        h.feed("<message from='alice@localhost' to='bob@localhost'/>");  // own bare JID is fine
        CHECK(h.host.routed.size() == 2);
        const std::string out = h.feed("<message from='bob@localhost/x' to='bob@localhost'/>");
        CHECK(out.find("<invalid-from") != std::string::npos);
        CHECK(h.host.routed.size() == 2);
    }

    TEST_CASE("session: a stanza whose handling is pending holds back the later ones, in order")
    {
        Harness h;
        h.bind();
        h.host.on_route = [](xml::Stanza&& stanza) { return stanza.name() != "iq"; };
        h.feed("<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq><message to='bob@localhost'/>"
               "<iq type='get' id='2'><ping xmlns='urn:xmpp:ping'/></iq>");
        REQUIRE(h.host.routed.size() == 1);
        CHECK(h.session.action() == Session::Action::Route);
        deliver(h.session, "<iq type='result' id='1'/>");  // what the connection does with the reply
        h.session.routed();
        REQUIRE(h.host.routed.size() == 3);  // the message, then the second IQ, which is pending again
        CHECK(h.host.routed[1].find("<message") == 0);
        CHECK(h.session.action() == Session::Action::Route);
        h.session.routed();
        CHECK(h.session.action() == Session::Action::None);
        // A stream error while a stanza is pending closes the stream; a late routed() changes nothing.
        h.feed("<iq type='get' id='3'><ping xmlns='urn:xmpp:ping'/></iq><message to='bob@localhost'/>");
        REQUIRE(h.session.action() == Session::Action::Route);
        h.session.fail(xmpp::StreamErrorCondition::SystemShutdown);
        h.session.routed();
        CHECK(h.session.action() == Session::Action::Close);
        CHECK(h.host.routed.size() == 4);
    }

    TEST_CASE("session: an IQ handler that suspends (a pool hop) keeps the session's later stanzas waiting")
    {
        // The connection's part, as net::Connection does it: route() leaves the dispatcher's awaitable, the
        // connection's coroutine awaits it, delivers the reply and calls routed().
        asio::io_context io;
        asio::thread_pool pool(1);
        server::IqDispatcher dispatcher;
        Harness h;
        h.bind();
        std::vector<std::string> seen_while_suspended;
        dispatcher.add("get", "urn:test", "slow", server::Target::Server,
                       [&](const server::IqRequest& request, xml::Writer& reply) -> asio::awaitable<server::IqResult> {
                           co_await asio::post(pool, asio::use_awaitable);  // off the session's thread
                           seen_while_suspended.push_back(std::to_string(h.host.routed.size()));
                           co_await asio::post(io, asio::use_awaitable);  // back
                           reply.open("slow").attr("xmlns", "urn:test").text(request.stanza.id()).close();
                           co_return server::IqResult{};
                       });
        server::IqReply pending;
        const xmpp::Jid jid = h.session.jid();
        h.host.on_route = [&](xml::Stanza&& stanza) {
            if (stanza.name() != "iq") return true;
            pending = dispatcher.dispatch(std::move(stanza), server::Requester{jid, "192.0.2.1", 1}, server::Target::Server, {});
            return false;
        };
        std::string out;
        asio::co_spawn(io, [&]() -> asio::awaitable<void> {
            h.session.receive("<iq type='get' id='a' to='localhost'><slow xmlns='urn:test'/></iq>"
                              "<message to='bob@localhost' id='m'/>"
                              "<iq type='get' id='b' to='localhost'><slow xmlns='urn:test'/></iq>");
            while (h.session.action() == Session::Action::Route) {
                const auto reply = co_await std::exchange(pending, {});
                if (reply) h.session.deliver(*reply);
                out += h.session.take_output();
                h.session.routed();
            }
        }, asio::detached);
        io.run();
        // While the first IQ's handler was away, nothing after it had been routed; the message came before
        // the second IQ, and the replies are in order.
        CHECK(seen_while_suspended == std::vector<std::string>{"1", "3"});
        REQUIRE(h.host.routed.size() == 3);
        CHECK(h.host.routed[1].find("id=\"m\"") != std::string::npos);
        const auto a = out.find("<slow xmlns='urn:test'>a</slow>");
        const auto b = out.find("<slow xmlns='urn:test'>b</slow>");
        REQUIRE(a != std::string::npos);
        REQUIRE(b != std::string::npos);
        CHECK(a < b);
        CHECK(h.session.action() == Session::Action::None);
    }

    TEST_CASE("session ends the stream after three failed logins and reports each failure")
    {
        Harness h;
        CHECK(h.login("alice", "x").find("<not-authorized/>") != std::string::npos);
        CHECK(h.host.failures == 1);
        sasl::ScramClient c2(crypto::Hash::Sha256, "alice", "y");
        std::string out = h.feed_running("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>" +
                                         crypto::base64_encode(c2.client_first()) + "</auth>");
        out = h.feed("<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        CHECK(out.find("<aborted/>") != std::string::npos);
        out = h.feed("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='NOPE'/>");
        CHECK(out.find("<invalid-mechanism/>") != std::string::npos);
        CHECK(out.find("<policy-violation") != std::string::npos);
        CHECK(h.session.action() == Session::Action::Close);
    }

    TEST_CASE("session holds a login's answer back for the delay the limits give, right or wrong")
    {
        for (const char* password : {"wonderland", "wrong"}) {
            Harness h;
            h.host.delay = std::chrono::milliseconds(1500);
            h.feed(header_to_localhost);
            h.feed("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                   crypto::base64_encode(std::string("\0ALICE\0", 7) + password) + "</auth>");
            REQUIRE(h.session.action() == Session::Action::RunBlocking);
            h.session.blocking_done(h.session.take_blocking_job()());
            // The password is checked (and a failure counted) before the wait; nothing is answered yet.
            CHECK(h.host.checked == std::vector<std::string>{"alice@localhost"});
            REQUIRE(h.session.action() == Session::Action::Wait);
            CHECK(h.session.wait_time() == std::chrono::milliseconds(1500));
            CHECK(h.session.take_output().empty());
            // Input that arrives meanwhile waits too.
            h.session.receive("<iq type='get' id='early'/>");
            CHECK(h.session.take_output().empty());
            h.session.wait_done();
            const std::string out = h.session.take_output();
            const bool right = std::string_view(password) == "wonderland";
            CHECK((out.find("<success") != std::string::npos) == right);
            CHECK((out.find("<not-authorized/>") != std::string::npos) == !right);
            CHECK(h.session.authenticated() == right);
        }
    }

    TEST_CASE("session runs PLAIN as a blocking job")
    {
        Harness h;
        h.feed(header_to_localhost);
        h.feed("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
               crypto::base64_encode(std::string("\0alice\0wonderland", 17)) + "</auth>");
        REQUIRE(h.session.action() == Session::Action::RunBlocking);
        auto job = h.session.take_blocking_job();
        h.session.blocking_done(job());
        CHECK(h.session.take_output() == "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        CHECK(h.session.jid().str() == "alice@localhost");
    }

    TEST_CASE("session closes on a stanza before authentication, unprocessed")
    {
        Harness h;
        h.feed(header_to_localhost);
        const std::string out = h.feed("<message to='bob@localhost'/>");
        CHECK(out.find("<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>") != std::string::npos);
        CHECK(out.ends_with("</stream:stream>"));
        CHECK(h.host.routed.empty());
    }

    TEST_CASE("session sends its header before an early stream error")
    {
        Harness h;
        const std::string out = h.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                                       "version='1.0' to='nowhere.example'>");
        CHECK(out.starts_with("<?xml version='1.0'?><stream:stream"));
        CHECK(out.find("<host-unknown") != std::string::npos);
        CHECK(h.session.state() == Session::State::Closed);
    }

    TEST_CASE("session answers an authzid other than the user's own with invalid-authzid")
    {
        Harness h;
        h.feed(header_to_localhost);
        const std::string out = h.feed("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                                       crypto::base64_encode(std::string("bob@localhost\0alice\0wonderland", 30)) + "</auth>");
        (void)out;
        auto job = h.session.take_blocking_job();
        h.session.blocking_done(job());
        CHECK(h.session.take_output().find("<invalid-authzid/>") != std::string::npos);
        CHECK_FALSE(h.session.authenticated());
    }

    TEST_CASE("session fail() is final and idempotent")
    {
        Harness h;
        h.feed(header_to_localhost);
        h.session.fail(xmpp::StreamErrorCondition::SystemShutdown);
        const std::string out = h.session.take_output();
        CHECK(out.find("<system-shutdown") != std::string::npos);
        h.session.fail(xmpp::StreamErrorCondition::Conflict);
        CHECK(h.session.take_output().empty());
        h.session.receive("<presence/>");
        CHECK(h.session.take_output().empty());
    }
}

TEST_SUITE("server")
{
    TEST_CASE("session offers stream management and client state indication after authentication only")
    {
        Harness fresh;
        const std::string before = fresh.feed(header_to_localhost);
        CHECK(before.find("urn:xmpp:sm:3") == std::string::npos);
        CHECK(before.find("urn:xmpp:csi:0") == std::string::npos);
        Harness h;
        h.login();
        const std::string after = h.feed(header_to_localhost);
        CHECK(after.find("<sm xmlns='urn:xmpp:sm:3'/>") != std::string::npos);
        CHECK(after.find("<csi xmlns='urn:xmpp:csi:0'/>") != std::string::npos);
    }

    TEST_CASE("session is still secure after authentication, once its channel bindings are gone")
    {
        Harness tls;
        const std::string features = tls.feed(header_to_localhost);
        CHECK(features.find("<channel-binding type='tls-exporter'/>") != std::string::npos);
        Harness h;
        h.bind();
        CHECK(h.session.secure());
        CHECK(h.session.state() == Session::State::Bound);
        Harness plain(/*direct_tls=*/false, /*require_tls=*/false);
        plain.bind();
        CHECK_FALSE(plain.session.secure());
    }

    TEST_CASE("session enables stream management only after binding, and only once")
    {
        Harness h;
        h.login();
        h.feed(header_to_localhost);
        CHECK(h.feed("<enable xmlns='urn:xmpp:sm:3'/>") ==
              "<failed xmlns='urn:xmpp:sm:3'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
        h.feed("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
        CHECK(h.feed("<enable xmlns='urn:xmpp:sm:3'/>") == "<enabled xmlns='urn:xmpp:sm:3'/>");
        CHECK(h.host.resumable.empty());
        CHECK_FALSE(h.session.resumable());
        CHECK(h.feed("<enable xmlns='urn:xmpp:sm:3'/>").find("<unexpected-request") != std::string::npos);
        CHECK(h.session.state() == Session::State::Bound);
    }

    TEST_CASE("session enables resumption with a fresh random id and at most the configured timeout")
    {
        Harness h;
        const std::string enabled = h.enable(" resume='true' max='60'");
        const std::string id = between(enabled, "id='", "'");
        CHECK(id.size() == 32);
        CHECK(enabled == "<enabled xmlns='urn:xmpp:sm:3' id='" + id + "' resume='true' max='60'/>");
        CHECK(h.host.resumable == std::vector<std::string>{id});
        CHECK(h.session.sm_id() == id);
        CHECK(h.session.resume_timeout() == std::chrono::seconds(60));

        Harness longer;
        const std::string capped = longer.enable(" resume='1' max='100000'");
        CHECK(capped.find("max='300'") != std::string::npos);
        CHECK(between(capped, "id='", "'") != id);
    }

    TEST_CASE("session counts handled stanzas, not nonzas, and answers <r/> with h")
    {
        Harness h;
        h.enable();
        h.feed("<message to='bob@localhost'><body>1</body></message><presence/>");
        h.feed("<inactive xmlns='urn:xmpp:csi:0'/>");
        CHECK(h.feed(r_request) == "<a xmlns='urn:xmpp:sm:3' h='2'/>");
        h.feed("<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
        CHECK(h.feed(r_request) == "<a xmlns='urn:xmpp:sm:3' h='3'/>");
        CHECK(h.host.routed.size() == 3);
    }

    TEST_CASE("session keeps delivered stanzas until acknowledged and asks for acks")
    {
        Harness h;
        h.enable();
        deliver(h.session, "<message from='bob@localhost/x' id='1'/><message from='bob@localhost/x' id='2'/>");
        CHECK(h.session.take_output() == "<message from='bob@localhost/x' id='1'/><message from='bob@localhost/x' id='2'/>" +
                                             std::string(r_request));
        deliver(h.session, "<message from='bob@localhost/x' id='3'/>");
        CHECK(h.session.take_output() == "<message from='bob@localhost/x' id='3'/>");  // an <r/> is outstanding
        // Message 3 is still unacknowledged after this <a/>: ask again rather than hold it while idle.
        CHECK(h.feed("<a xmlns='urn:xmpp:sm:3' h='2'/>") == r_request);
        CHECK(h.feed("<a xmlns='urn:xmpp:sm:3' h='3'/>").empty());
        CHECK(h.session.take_unacked().empty());
    }

    TEST_CASE("session ends the stream when the client acknowledges more than was sent")
    {
        Harness h;
        h.enable();
        deliver(h.session, "<message id='1'/><message id='2'/>");
        h.session.take_output();
        const std::string out = h.feed("<a xmlns='urn:xmpp:sm:3' h='5'/>");
        CHECK(out == "<stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                     "<handled-count-too-high xmlns='urn:xmpp:sm:3' h='5' send-count='2'/></stream:error></stream:stream>");
        CHECK(h.session.state() == Session::State::Closed);
    }

    TEST_CASE("session refuses a malformed h and acks before enabling")
    {
        Harness bad;
        bad.enable();
        CHECK(bad.feed("<a xmlns='urn:xmpp:sm:3' h='-1'/>").find("<invalid-xml") != std::string::npos);
        Harness early;
        early.bind();
        CHECK(early.feed(r_request).find("<unsupported-stanza-type") != std::string::npos);
    }

    TEST_CASE("session counts what waits for its client, and ends a stream whose own replies outgrow twice the bound")
    {
        // Deliveries from others are admitted within max_unacked_bytes by the connection (and bounced beyond
        // it); only the session's own output can pass it, and twice the bound ends the stream.
        auto config = std::make_shared<server::SessionConfig>(*make_config());
        config->max_unacked_bytes = 100;
        const std::string message = "<message from='bob@localhost/x' id='1'><body>0123456789</body></message>";
        Harness h(config);
        h.enable();
        CHECK(h.session.queued_bytes() == 0);
        deliver(h.session, message);
        deliver(h.session, message);
        CHECK(h.session.queued_bytes() == 2 * message.size());
        CHECK(h.session.queued_stanzas() == 2);
        CHECK(h.session.state() == Session::State::Bound);
        deliver(h.session, message);
        CHECK(h.session.state() == Session::State::Closed);
        CHECK(h.session.take_output().find("<policy-violation") != std::string::npos);

        Harness away(config);
        away.enable();
        away.session.peer_closed();
        for (int i = 0; i < 3; ++i) deliver(away.session, message);
        CHECK(away.session.state() == Session::State::Closed);
        CHECK(away.session.action() == Session::Action::Close);
        CHECK(away.session.take_output().empty());
        CHECK(unacked_text(away.session.take_unacked()) == message + message + message);
    }

    TEST_CASE("session without resumption, or closed cleanly, is not kept when the connection drops")
    {
        Harness plain;
        plain.enable("");
        plain.session.peer_closed();
        CHECK(plain.session.state() == Session::State::Closed);
        CHECK(plain.session.action() == Session::Action::Close);

        Harness clean;
        clean.enable();
        CHECK(clean.feed("</stream:stream>") == "</stream:stream>");
        clean.session.peer_closed();
        CHECK(clean.session.state() == Session::State::Closed);

        Harness dropped;
        dropped.enable();
        dropped.session.peer_closed();
        CHECK(dropped.session.state() == Session::State::Detached);
        CHECK(dropped.session.action() == Session::Action::None);
    }

    TEST_CASE("session detached from its client queues deliveries without output")
    {
        Harness h;
        h.enable();
        deliver(h.session, "<message id='1'/>");
        h.session.take_output();
        h.session.peer_closed();
        deliver(h.session, "<message id='2'/>");
        CHECK_FALSE(h.session.has_output());
        CHECK(h.session.take_output().empty());
        CHECK(unacked_text(h.session.take_unacked()) == "<message id='1'/><message id='2'/>");
        // A kick (conflict, shutdown) ends it without output.
        h.session.fail(xmpp::StreamErrorCondition::Conflict);
        CHECK(h.session.state() == Session::State::Closed);
        CHECK(h.session.take_output().empty());
    }

    TEST_CASE("session resumes on a new stream with the old session's unacknowledged stanzas, in order")
    {
        Harness old_side;
        const std::string id = between(old_side.enable(), "id='", "'");
        old_side.feed("<message to='bob@localhost'/>");
        deliver(old_side.session, "<message id='1'/><message id='2'/>");
        old_side.session.take_output();
        old_side.session.peer_closed();
        deliver(old_side.session, "<message id='3'/>");

        Harness new_side;
        new_side.login();
        new_side.feed(header_to_localhost);
        CHECK(new_side.feed("<resume xmlns='urn:xmpp:sm:3' previd='" + id + "' h='1'/><message to='bob@localhost'/>").empty());
        CHECK(new_side.session.state() == Session::State::Resuming);
        REQUIRE(new_side.session.action() == Session::Action::Resume);
        CHECK(new_side.session.resume_request().previd == id);
        CHECK(new_side.session.resume_request().h == 1);

        // What net::Connection does across the two workers.
        CHECK_FALSE(old_side.session.check_takeover(1));
        old_side.session.hand_over();
        CHECK(old_side.session.take_output().empty());  // it had no client any more
        deliver(new_side.session, "<message id='4'/>");  // arrives before the state
        CHECK(new_side.session.queued_stanzas() == 1);  // counted against the queue's bound meanwhile
        CHECK(new_side.session.queued_bytes() == std::string_view("<message id='4'/>").size());
        deliver(old_side.session, "<message id='3b'/>");  // was posted to the old side before the switch
        server::ResumeState state = old_side.session.take_resume_state(1);
        CHECK(old_side.session.state() == Session::State::Closed);
        CHECK(old_side.session.take_unacked().empty());

        new_side.session.resumed(std::move(state));
        CHECK(new_side.session.state() == Session::State::Bound);
        CHECK(new_side.session.queued_stanzas() == 4);  // unacknowledged now: 2, 3, 3b, 4
        CHECK(new_side.session.jid().str() == "alice@localhost/r");
        CHECK(new_side.session.sm_id() == id);
        CHECK(new_side.session.take_output() ==
              "<resumed xmlns='urn:xmpp:sm:3' h='1' previd='" + id + "'/>"
              "<message id='2'/><message id='3'/><message id='3b'/><message id='4'/>" + std::string(r_request));
        // The stanza pipelined after <resume/> was processed afterwards and counted on the old h.
        CHECK(new_side.host.routed.size() == 1);
        CHECK(new_side.feed(r_request) == "<a xmlns='urn:xmpp:sm:3' h='2'/>");
        CHECK(new_side.feed("<a xmlns='urn:xmpp:sm:3' h='5'/>").empty());
        CHECK(new_side.session.take_unacked().empty());
    }

    TEST_CASE("session keeps delivered envelopes themselves, with when each was first queued, across a resumption")
    {
        Harness old_side;
        const std::string id = between(old_side.enable(), "id='", "'");
        const auto message = test::envelope("<message from='bob@localhost/x' to='alice@localhost/r' type='chat' id='1'/>");
        const auto before = std::chrono::system_clock::now();
        old_side.session.deliver(message);
        const auto after = std::chrono::system_clock::now();
        old_side.session.take_output();
        old_side.session.peer_closed();

        Harness new_side;
        new_side.login();
        new_side.feed(header_to_localhost);
        new_side.feed("<resume xmlns='urn:xmpp:sm:3' previd='" + id + "' h='0'/>");
        REQUIRE_FALSE(old_side.session.check_takeover(0));
        old_side.session.hand_over();
        server::ResumeState state = old_side.session.take_resume_state(0);
        new_side.session.resumed(std::move(state));
        CHECK(new_side.session.take_output().find("<message from='bob@localhost/x'") != std::string::npos);

        // Resent, still unacknowledged: the same envelope (shared bytes), queued when it first arrived.
        const auto unacked = new_side.session.take_unacked();
        REQUIRE(unacked.size() == 1);
        CHECK(unacked[0].stanza.same_stanza(message));
        CHECK(unacked[0].queued >= before);
        CHECK(unacked[0].queued <= after);
        // Bounced from the envelope alone when the session ends for good.
        const auto bounced = server::bounces(unacked);
        REQUIRE(bounced.size() == 1);
        CHECK(bounced[0].to.str() == "bob@localhost/x");
        CHECK(bounced[0].stanza.bytes().find("<service-unavailable") != std::string::npos);
    }

    TEST_CASE("session handed over while its client is still connected sends it a conflict")
    {
        Harness h;
        h.enable();
        CHECK_FALSE(h.session.check_takeover(0));
        h.session.hand_over();
        CHECK(h.session.take_output() ==
              "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text "
              "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>the session was resumed on another connection</text>"
              "</stream:error></stream:stream>");
        CHECK(h.session.action() == Session::Action::Close);
        deliver(h.session, "<message id='1'/>");
        CHECK(h.session.take_output().empty());
        std::string queued;
        h.session.take_resume_state(0).sm.for_each_unacked([&](const server::Unacked& u) { queued += u.stanza.bytes(); });
        CHECK(queued == "<message id='1'/>");
    }

    TEST_CASE("session refuses takeovers it cannot give")
    {
        Harness plain;
        plain.enable("");
        CHECK(plain.session.check_takeover(0)->reason == server::ResumeFailure::Reason::ItemNotFound);

        Harness h;
        h.enable();
        deliver(h.session, "<message id='1'/>");
        const auto refused = h.session.check_takeover(2);
        REQUIRE(refused);
        CHECK(refused->reason == server::ResumeFailure::Reason::HandledCountTooHigh);
        CHECK(refused->h == 2);
        CHECK(refused->send_count == 1);

        Harness closed;
        closed.enable();
        closed.feed("</stream:stream>");
        CHECK(closed.session.check_takeover(0));
    }

    TEST_CASE("session answers a failed resumption and still lets the client bind")
    {
        Harness h;
        h.login();
        h.feed(header_to_localhost);
        h.feed("<resume xmlns='urn:xmpp:sm:3' previd='nope' h='0'/>");
        REQUIRE(h.session.action() == Session::Action::Resume);
        h.session.resume_failed({});
        CHECK(h.session.take_output() ==
              "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
        CHECK(h.session.state() == Session::State::Negotiating);
        CHECK(h.feed("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>").find("<jid>") !=
              std::string::npos);

        Harness too_high;
        too_high.login();
        too_high.feed(header_to_localhost);
        too_high.feed("<resume xmlns='urn:xmpp:sm:3' previd='x' h='9'/>");
        too_high.session.resume_failed({server::ResumeFailure::Reason::HandledCountTooHigh, 9, 4});
        CHECK(too_high.session.take_output().find(
                  "<handled-count-too-high xmlns='urn:xmpp:sm:3' h='9' send-count='4'/>") != std::string::npos);
        CHECK(too_high.session.state() == Session::State::Closed);
    }

    TEST_CASE("session refuses <resume/> once bound or when malformed")
    {
        Harness bound;
        bound.bind();
        CHECK(bound.feed("<resume xmlns='urn:xmpp:sm:3' previd='x' h='0'/>").find("<unexpected-request") !=
              std::string::npos);
        Harness bad;
        bad.login();
        bad.feed(header_to_localhost);
        CHECK(bad.feed("<resume xmlns='urn:xmpp:sm:3' previd='x' h='z'/>") ==
              "<failed xmlns='urn:xmpp:sm:3'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>");
        CHECK(bad.feed("<resume xmlns='urn:xmpp:sm:3' h='1'/>").find("<bad-request") != std::string::npos);
        CHECK(bad.session.state() == Session::State::Negotiating);
    }

    TEST_CASE("session closed during a resumption keeps the state only to bounce it")
    {
        Harness old_side;
        old_side.enable();
        deliver(old_side.session, "<message id='1'/>");
        old_side.session.peer_closed();
        Harness new_side;
        new_side.login();
        new_side.feed(header_to_localhost);
        new_side.feed("<resume xmlns='urn:xmpp:sm:3' previd='" + old_side.session.sm_id() + "' h='0'/>");
        new_side.session.fail(xmpp::StreamErrorCondition::SystemShutdown);
        new_side.session.take_output();
        new_side.session.resumed(old_side.session.take_resume_state(0));
        CHECK(new_side.session.state() == Session::State::Closed);
        CHECK(new_side.session.take_output().empty());
        CHECK(new_side.session.jid().str() == "alice@localhost/r");
        CHECK(unacked_text(new_side.session.take_unacked()) == "<message id='1'/>");
    }

    TEST_CASE("session holds presence while inactive and lets it out, in order, before the next message")
    {
        Harness h;
        h.bind();
        h.feed("<inactive xmlns='urn:xmpp:csi:0'/>");
        deliver(h.session, "<presence from='a@localhost/1'><show>away</show></presence>");
        deliver(h.session, "<presence from='b@localhost/1'/>");
        deliver(h.session, "<presence from='a@localhost/1'/>");
        CHECK_FALSE(h.session.has_output());
        deliver(h.session, "<message from='c@localhost/1'><body>call me</body></message>");
        CHECK(h.session.take_output() ==
              "<presence from='b@localhost/1'/><presence from='a@localhost/1'/>"
              "<message from='c@localhost/1'><body>call me</body></message>");

        deliver(h.session, "<presence from='d@localhost/1'/>");
        deliver(h.session, "<iq from='d@localhost/1' type='set' id='j'/>");
        CHECK(h.session.take_output() == "<presence from='d@localhost/1'/><iq from='d@localhost/1' type='set' id='j'/>");

        deliver(h.session, "<presence from='e@localhost/1'/>");
        CHECK(h.feed("<active xmlns='urn:xmpp:csi:0'/>") == "<presence from='e@localhost/1'/>");
        deliver(h.session, "<presence from='f@localhost/1'/>");
        CHECK(h.session.take_output() == "<presence from='f@localhost/1'/>");
    }

    TEST_CASE("session counts held presence only once it goes out")
    {
        Harness h;
        h.enable();
        h.feed("<inactive xmlns='urn:xmpp:csi:0'/>");
        deliver(h.session, "<presence from='a@localhost/1'/>");
        CHECK(h.session.take_output().empty());
        CHECK(h.feed("<a xmlns='urn:xmpp:sm:3' h='1'/>").find("<handled-count-too-high") != std::string::npos);

        Harness g;
        g.enable();
        g.feed("<inactive xmlns='urn:xmpp:csi:0'/>");
        deliver(g.session, "<presence from='a@localhost/1'/>");
        g.feed("<active xmlns='urn:xmpp:csi:0'/>");
        CHECK(g.feed("<a xmlns='urn:xmpp:sm:3' h='1'/>").empty());
    }

    TEST_CASE("session pings its client from the domain and consumes the answer")
    {
        Harness h;
        h.bind();
        h.session.ping();
        CHECK(h.session.take_output() ==
              "<iq type='get' id='ping-1' to='alice@localhost/r' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
        h.feed("<iq type='result' id='ping-1' to='localhost'/>");
        CHECK(h.host.routed.empty());
        // Another result with that id is no longer ours.
        h.feed("<iq type='result' id='ping-1' to='localhost'/>");
        CHECK(h.host.routed.size() == 1);
    }
}
