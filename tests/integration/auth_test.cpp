// SASL on a real ternd (RFC 6120 §6): every mechanism, channel binding, and each failure condition.
#include <doctest/doctest.h>

#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

struct Fixture {
    TernProcess server;
    Fixture()
    {
        server.add_user("alice@localhost", "wonderland");
        server.start();
    }
    // A client on the STARTTLS port with TLS negotiated and SASL features read.
    std::unique_ptr<XmppClient> secured(tls::Version version = tls::Version::Tls1_3)
    {
        auto client = std::make_unique<XmppClient>(server.starttls_port());
        client->open_stream();
        features = client->starttls(TlsOptions::version(version));
        return client;
    }
    std::vector<std::string> mechanisms() const
    {
        std::vector<std::string> names;
        for (xml::Element m : features->root().child("mechanisms", xmpp::ns::sasl).children()) names.emplace_back(m.text());
        return names;
    }
    std::optional<xml::Stanza> features;
};

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("auth: mechanisms offered after TLS, strongest first")
    {
        Fixture f;
        auto client = f.secured();
        CHECK(f.mechanisms() == std::vector<std::string>{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256",
                                                         "SCRAM-SHA-1", "PLAIN"});
    }

    TEST_CASE("auth: SCRAM-SHA-1 and SCRAM-SHA-256 succeed and the stream restarts with bind")
    {
        Fixture f;
        for (const char* mechanism : {"SCRAM-SHA-1", "SCRAM-SHA-256"}) {
            CAPTURE(mechanism);
            auto client = f.secured();
            CHECK(client->scram(mechanism, "alice", "wonderland") == "success");
            xml::Stanza features = client->open_stream();
            CHECK(features.root().child("bind", xmpp::ns::bind));
            CHECK_FALSE(features.root().child("mechanisms", xmpp::ns::sasl));
        }
    }

    TEST_CASE("auth: -PLUS with every channel-binding type the server advertises")
    {
        Fixture f;
        struct Case {
            tls::Version version;
            const char* type;
        };
        for (const Case c : {Case{tls::Version::Tls1_3, "tls-exporter"}, Case{tls::Version::Tls1_3, "tls-server-end-point"},
                             Case{tls::Version::Tls1_2, "tls-unique"}, Case{tls::Version::Tls1_2, "tls-server-end-point"}}) {
            for (const char* mechanism : {"SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS"}) {
                CAPTURE(mechanism);
                CAPTURE(c.type);
                auto client = f.secured(c.version);
                REQUIRE(client->channel_binding(c.type));
                CHECK(client->scram(mechanism, "alice", "wonderland", c.type) == "success");
            }
        }
    }

    TEST_CASE("auth: a wrong channel binding is refused")
    {
        Fixture f;
        auto client = f.secured();
        CHECK(client->scram("SCRAM-SHA-256-PLUS", "alice", "wonderland", "tls-exporter", std::string(32, 'x')) ==
              "not-authorized");
    }

    TEST_CASE("auth: the 'y' flag while the server offers -PLUS with tls-unique is a downgrade and refused")
    {
        // TLS 1.2 with the extended master secret: tls-unique is offered, which every client sending "y"
        // knows (on TLS 1.3 "y" is accepted by default: channel_binding_test.cpp, README Security notes).
        Fixture f;
        auto client = f.secured(tls::Version::Tls1_2);
        // A SCRAM exchange by hand: y,, says "I could bind but think you can't". Refused at once.
        client->send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>" +
                     crypto::base64_encode("y,,n=alice,r=abcdefghijklmnop") + "</auth>");
        const xml::Stanza reply = client->next_stanza();
        CHECK(reply.name() == "failure");
        CHECK(reply.root().child("not-authorized", xmpp::ns::sasl));
        CHECK(reply.root().child("text", xmpp::ns::sasl).text() == "server-does-support-channel-binding");
    }

    TEST_CASE("auth: wrong password, then a retry succeeds")
    {
        Fixture f;
        auto client = f.secured();
        CHECK(client->scram("SCRAM-SHA-256", "alice", "wrong") == "not-authorized");
        CHECK(client->scram("SCRAM-SHA-256", "alice", "wonderland") == "success");
    }

    TEST_CASE("auth: unknown user fails exactly like a wrong password")
    {
        Fixture f;
        auto client = f.secured();
        CHECK(client->scram("SCRAM-SHA-256", "mallory", "x") == "not-authorized");
    }

    TEST_CASE("auth: too many failures end the stream with policy-violation")
    {
        Fixture f;
        auto client = f.secured();
        CHECK(client->scram("SCRAM-SHA-1", "alice", "a") == "not-authorized");
        CHECK(client->scram("SCRAM-SHA-1", "alice", "b") == "not-authorized");
        CHECK(client->scram("SCRAM-SHA-1", "alice", "c") == "not-authorized");
        CHECK(client->expect_stream_error() == "policy-violation");
    }

    TEST_CASE("auth: failures past the budget delay the next answer across connections, right or wrong")
    {
        Fixture f;
        f.server.set("limits", "max_auth_failures_per_minute", "2");
        f.server.stop();
        f.server.start();
        for (int i = 0; i < 2; ++i) {
            auto client = f.secured();
            CHECK(client->scram("SCRAM-SHA-1", "alice", "bad") == "not-authorized");
        }
        auto client = f.secured();
        const auto started = std::chrono::steady_clock::now();
        CHECK(client->scram("SCRAM-SHA-1", "alice", "wonderland") == "success");
        CHECK(std::chrono::steady_clock::now() - started >= 900ms);
    }

    TEST_CASE("auth: abort")
    {
        Fixture f;
        auto client = f.secured();
        client->send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>" +
                     crypto::base64_encode("n,,n=alice,r=abcdefghijkl") + "</auth>");
        CHECK(client->next_stanza().name() == "challenge");
        client->send("<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        xml::Stanza reply = client->next_stanza();
        CHECK(reply.name() == "failure");
        CHECK(reply.root().first_child_element().name() == "aborted");
        CHECK(client->scram("SCRAM-SHA-256", "alice", "wonderland") == "success");
    }

    TEST_CASE("auth: bad base64 gets incorrect-encoding")
    {
        Fixture f;
        auto client = f.secured();
        client->send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>not*base64</auth>");
        xml::Stanza reply = client->next_stanza();
        CHECK(reply.root().first_child_element().name() == "incorrect-encoding");
    }

    TEST_CASE("auth: unknown mechanism gets invalid-mechanism")
    {
        Fixture f;
        auto client = f.secured();
        client->send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='DIGEST-MD5'/>");
        CHECK(client->next_stanza().root().first_child_element().name() == "invalid-mechanism");
    }

    TEST_CASE("auth: a malformed SCRAM message gets malformed-request")
    {
        Fixture f;
        auto client = f.secured();
        client->send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>" +
                     crypto::base64_encode("garbage") + "</auth>");
        CHECK(client->next_stanza().root().first_child_element().name() == "malformed-request");
    }

    TEST_CASE("auth: SASL before TLS gets encryption-required")
    {
        Fixture f;
        XmppClient client(f.server.starttls_port());
        client.open_stream();
        client.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" +
                    crypto::base64_encode(std::string("\0alice\0wonderland", 17)) + "</auth>");
        CHECK(client.next_stanza().root().first_child_element().name() == "encryption-required");
    }

    TEST_CASE("auth: PLAIN inside TLS, verified off the I/O thread")
    {
        Fixture f;
        auto client = f.secured();
        CHECK(client->plain("alice", "wrong") == "not-authorized");
        CHECK(client->plain("alice", "wonderland") == "success");
    }
}
