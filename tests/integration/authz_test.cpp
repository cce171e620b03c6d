// Authorization on a real ternd serving two domains (localhost and example.test): no XEP-0215 credentials
// or XEP-0279 address for a stream that has not authenticated, no credentials for accounts a service is
// not for, never another account's address, and no stanza that claims to come from someone else
// (RFC 6120 §8.1.2.1): the server stamps the sender's full JID and ends a stream that lies.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "crypto/crypto.hpp"
#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

// TURN for localhost accounts only; a second relay for example.test accounts only.
const std::string services_toml = R"(
[turn]
host = "127.0.0.1"
secret = "authz-secret"
ttl = 3600
allow = ["localhost"]

[[services]]
type = "turn"
host = "relay.example.test"
port = 3478
transport = "udp"
secret = "other-secret"
allow = ["example.test"]
)";

const std::string services_request = "<services xmlns='urn:xmpp:extdisco:2'/>";
const std::string credentials_request = "<credentials xmlns='urn:xmpp:extdisco:2'>"
                                        "<service host='127.0.0.1' type='turn'/></credentials>";
const std::string address_request = "<address xmlns='urn:xmpp:sic:1'/>";

struct Fixture {
    TernProcess server;

    Fixture()
    {
        server.set_extra_toml(services_toml);
        server.add_user("alice@localhost", "wonderland");
        server.add_user("bob@localhost", "builder");
        server.add_user("eve@example.test", "evil");
        server.start();
    }

    std::unique_ptr<XmppClient> bound(const std::string& user, const std::string& password, const std::string& domain,
                                      const std::string& resource)
    {
        auto client = std::make_unique<XmppClient>(server.starttls_port());
        client->open_stream(domain);
        // STARTTLS by hand: XmppClient::starttls() reopens the stream to localhost.
        client->send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        REQUIRE(client->next_stanza().name() == "proceed");
        client->handshake();
        client->open_stream(domain);
        REQUIRE(client->scram("SCRAM-SHA-256", user, password) == "success");
        client->open_stream(domain);
        REQUIRE(client->bind(resource) == user + "@" + domain + "/" + resource);
        return client;
    }
};

std::string iq_get(const std::string& id, const std::string& to, const std::string& payload)
{
    return "<iq type='get' id='" + id + "'" + (to.empty() ? "" : " to='" + to + "'") + ">" + payload + "</iq>";
}

xml::Stanza ask(XmppClient& client, const std::string& id, const std::string& to, const std::string& payload)
{
    client.send(iq_get(id, to, payload));
    xml::Stanza reply = client.next_stanza();
    REQUIRE(reply.name() == "iq");
    REQUIRE(reply.id() == id);
    return reply;
}

std::string error_of(const xml::Stanza& reply)
{
    if (reply.type() != "error") return "";
    return std::string(reply.root().child("error", xmpp::ns::client).first_child_element().name());
}

// Whether a reply carries a credential or an address (an error reply echoes the request, which has none).
bool reveals_something(const xml::Stanza& reply)
{
    const std::string text = reply.serialize();
    return text.find("password=") != std::string::npos || text.find("username=") != std::string::npos ||
           text.find("<ip") != std::string::npos || text.find("<port") != std::string::npos;
}

// Reads what the stream still delivers until the server closes it; fails if any of it holds a secret.
std::string stream_error_without_secrets(XmppClient& client)
{
    std::string condition;
    for (;;) {
        const Received r = client.next();
        if (r.closed() || r.kind == xml::EventKind::StreamClose) return condition;
        CHECK(r.bytes.find("password=") == std::string::npos);
        CHECK(r.bytes.find("<ip") == std::string::npos);
        if (r.stanza && r.stanza->name() == "error" && r.stanza->ns() == xml::stream_ns)
            condition = std::string(r.stanza->root().first_child_element().name());
    }
}

// A round trip through the server: everything sent to `client` before has arrived when it returns.
void round_trip(XmppClient& client, const std::string& id)
{
    const xml::Stanza pong = ask(client, id, "localhost", "<ping xmlns='urn:xmpp:ping'/>");
    CHECK(pong.type() == "result");
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("authz: an IQ for credentials or the address before authentication ends the stream, unanswered")
    {
        Fixture f;
        for (const std::string& payload : {services_request, credentials_request, address_request}) {
            INFO(payload);
            {
                XmppClient plaintext(f.server.starttls_port());
                plaintext.open_stream();
                plaintext.send(iq_get("early", "localhost", payload));
                CHECK(stream_error_without_secrets(plaintext) == "not-authorized");
            }
            {
                XmppClient secured(f.server.starttls_port());
                secured.open_stream();
                secured.starttls();
                secured.send(iq_get("early", "localhost", payload));
                CHECK(stream_error_without_secrets(secured) == "not-authorized");
            }
            {
                // Authenticated, not yet bound: RFC 6120 §7.1, no stanza is processed.
                XmppClient unbound(f.server.starttls_port());
                unbound.open_stream();
                unbound.starttls();
                REQUIRE(unbound.scram("SCRAM-SHA-256", "alice", "wonderland") == "success");
                unbound.open_stream();
                const xml::Stanza reply = ask(unbound, "early", "localhost", payload);
                CHECK(error_of(reply) == "not-authorized");
                CHECK_FALSE(reveals_something(reply));
            }
        }
        {
            // A SASL exchange under way is not authentication either.
            XmppClient halfway(f.server.starttls_port());
            halfway.open_stream();
            halfway.starttls();
            halfway.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>" +
                         crypto::base64_encode("n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL") + "</auth>");
            CHECK(halfway.next_stanza().name() == "challenge");
            halfway.send(iq_get("early", "localhost", credentials_request));
            CHECK(stream_error_without_secrets(halfway) == "not-authorized");
        }
    }

    TEST_CASE("authz: a service's credentials only for the accounts it is for, whichever domain is asked")
    {
        Fixture f;
        auto alice = f.bound("alice", "wonderland", "localhost", "a");
        auto eve = f.bound("eve", "evil", "example.test", "e");

        const xml::Stanza mine = ask(*alice, "c", "localhost", credentials_request);
        REQUIRE(mine.type() == "result");
        const xml::Element service = mine.root().child("credentials", xmpp::ns::extdisco_2).child("service", xmpp::ns::extdisco_2);
        CHECK(std::string(service.attr("username")).ends_with(":alice@localhost"));

        for (const std::string to : {"localhost", "example.test"}) {
            INFO("asked of ", to);
            const xml::Stanza credentials = ask(*eve, "c", to, credentials_request);
            CHECK(error_of(credentials) == "forbidden");
            CHECK_FALSE(reveals_something(credentials));

            // <services/> lists only example.test's relay, with eve's own credentials.
            const xml::Stanza services = ask(*eve, "s", to, services_request);
            REQUIRE(services.type() == "result");
            int listed = 0;
            for (const xml::Element s : services.root().child("services", xmpp::ns::extdisco_2).children()) {
                ++listed;
                CHECK(s.attr("host") == "relay.example.test");
                CHECK(std::string(s.attr("username")).ends_with(":eve@example.test"));
            }
            CHECK(listed == 1);
        }
        // Asked of another account (its bare JID), the server does not answer for the services.
        const xml::Stanza of_alice = ask(*eve, "b", "alice@localhost", credentials_request);
        CHECK(error_of(of_alice) == "service-unavailable");
        CHECK_FALSE(reveals_something(of_alice));
        // A domain the server does not serve gets nothing either (no federation).
        const xml::Stanza remote = ask(*alice, "r", "elsewhere.example", credentials_request);
        CHECK(error_of(remote) == "remote-server-not-found");
        CHECK_FALSE(reveals_something(remote));
    }

    TEST_CASE("authz: XEP-0279 gives only the requester's own address; to another's full JID it is routed there")
    {
        Fixture f;
        auto alice = f.bound("alice", "wonderland", "localhost", "a");
        auto bob = f.bound("bob", "builder", "localhost", "b");

        const xml::Stanza own = ask(*alice, "own", "localhost", address_request);
        REQUIRE(own.type() == "result");
        const xml::Element address = own.root().child("address", xmpp::ns::sic_1);
        CHECK(address.child("port", xmpp::ns::sic_1).text() == std::to_string(alice->local_port()));

        const xml::Stanza of_bob = ask(*alice, "bare", "bob@localhost", address_request);
        CHECK(error_of(of_bob) == "forbidden");
        CHECK_FALSE(reveals_something(of_bob));

        // To bob's full JID the server does not answer: the request goes to bob, from alice.
        alice->send(iq_get("full", "bob@localhost/b", address_request));
        const xml::Stanza at_bob = bob->next_stanza();
        CHECK(at_bob.name() == "iq");
        CHECK(at_bob.attr("from") == "alice@localhost/a");
        CHECK(at_bob.id() == "full");
        CHECK_THROWS(alice->next(std::chrono::milliseconds(300)));  // nothing from the server meanwhile
        bob->send("<iq type='error' id='full' to='alice@localhost/a'><address xmlns='urn:xmpp:sic:1'/>"
                  "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
        const xml::Stanza answer = alice->next_stanza();
        CHECK(answer.id() == "full");
        CHECK(answer.attr("from") == "bob@localhost/b");
        CHECK(error_of(answer) == "service-unavailable");
        CHECK(answer.serialize().find(std::to_string(bob->local_port())) == std::string::npos);
    }

    TEST_CASE("authz: a stanza claiming another sender ends the stream and never arrives; an honest one is stamped")
    {
        Fixture f;
        auto bob = f.bound("bob", "builder", "localhost", "b");
        auto eve_other = f.bound("eve", "evil", "example.test", "other");

        const std::string lies[] = {
            "bob@localhost/b",          // the receiver itself
            "alice@localhost",          // another account, bare
            "alice@localhost/a",        // another account, full
            "localhost",                // the server
            "eve@example.test/other",   // the sender's own other resource
            "eve@localhost/e",          // the sender's name on the other domain
            "admin@elsewhere.example",  // a remote account
            "not a jid@@",              // no JID at all
        };
        const std::string kinds[] = {
            "<message to='bob@localhost/b' type='chat' from='{}'><body>spoofed</body></message>",
            "<presence to='bob@localhost/b' from='{}'/>",
            "<iq type='get' id='spoof' to='bob@localhost/b' from='{}'><query xmlns='jabber:iq:version'/></iq>",
        };
        for (const std::string& kind : kinds) {
            for (const std::string& lie : lies) {
                INFO(kind, " from ", lie);
                auto eve = f.bound("eve", "evil", "example.test", "e");
                std::string stanza = kind;
                stanza.replace(stanza.find("{}"), 2, lie);
                eve->send(stanza);
                CHECK(eve->expect_stream_error() == "invalid-from");
            }
        }
        // None of them reached bob: the first thing he gets is the honest message below, with the true
        // sender stamped (the claimed bare JID is the sender's own, so it is allowed and completed).
        auto eve = f.bound("eve", "evil", "example.test", "e");
        eve->send("<message to='bob@localhost/b' type='chat' from='eve@example.test'><body>honest</body></message>");
        eve->send("<message to='bob@localhost/b' type='chat'><body>no from</body></message>");
        const xml::Stanza honest = bob->next_stanza();
        CHECK(honest.attr("from") == "eve@example.test/e");
        CHECK(honest.root().child("body", xmpp::ns::client).text() == "honest");
        const xml::Stanza stamped = bob->next_stanza();
        CHECK(stamped.attr("from") == "eve@example.test/e");
        CHECK(stamped.root().child("body", xmpp::ns::client).text() == "no from");
        round_trip(*bob, "after");
        round_trip(*eve_other, "other");  // the resource named in a lie was not disturbed
    }
}
