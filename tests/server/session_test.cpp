// The c2s state machine in memory: scripted client bytes in, server bytes and actions out (no sockets).
#include <doctest/doctest.h>

#include <map>

#include "scram_client.hpp"
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
    bool allowed = true;
    int failures = 0;
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
    bool auth_allowed() override { return allowed; }
    void auth_failed() override { ++failures; }
    server::BindOutcome bind(const xmpp::Jid& full) override
    {
        bound.push_back(full.str());
        return bind_outcome;
    }
    void route(xml::Stanza&& stanza) override { routed.push_back(stanza.serialize()); }
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
    std::string feed(std::string_view bytes)
    {
        session.receive(bytes);
        return session.take_output();
    }
    std::string login(const std::string& user = "alice", const std::string& password = "wonderland",
                      std::string_view mechanism = "SCRAM-SHA-256")
    {
        feed(header_to_localhost);
        test::ScramClient client(mechanism == "SCRAM-SHA-1" ? crypto::Hash::Sha1 : crypto::Hash::Sha256, user, password);
        std::string out = feed("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + std::string(mechanism) +
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
};

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

    TEST_CASE("session ends the stream after three failed logins and reports each failure")
    {
        Harness h;
        CHECK(h.login("alice", "x").find("<not-authorized/>") != std::string::npos);
        CHECK(h.host.failures == 1);
        test::ScramClient c2(crypto::Hash::Sha256, "alice", "y");
        std::string out = h.feed("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>" +
                                 crypto::base64_encode(c2.client_first()) + "</auth>");
        out = h.feed("<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        CHECK(out.find("<aborted/>") != std::string::npos);
        out = h.feed("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='NOPE'/>");
        CHECK(out.find("<invalid-mechanism/>") != std::string::npos);
        CHECK(out.find("<policy-violation") != std::string::npos);
        CHECK(h.session.action() == Session::Action::Close);
    }

    TEST_CASE("session refuses authentication while the address is over its failure budget")
    {
        Harness h;
        h.host.allowed = false;
        h.feed(header_to_localhost);
        const std::string out = h.feed("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'/>");
        CHECK(out.find("<policy-violation") != std::string::npos);
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
