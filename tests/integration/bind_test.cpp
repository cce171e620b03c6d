// Resource binding and the first stanzas on a real ternd (RFC 6120 §7, §8).
#include <doctest/doctest.h>

#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

struct Fixture {
    TernProcess server;
    explicit Fixture(int max_resources = 10)
    {
        server.set("limits", "max_resources_per_account", std::to_string(max_resources));
        server.add_user("alice@localhost", "wonderland");
        server.add_user("bob@localhost", "builder");
        server.start();
    }
    std::unique_ptr<XmppClient> authenticated(const std::string& user = "alice", const std::string& password = "wonderland")
    {
        auto client = std::make_unique<XmppClient>(server.starttls_port());
        client->open_stream();
        client->starttls();
        REQUIRE(client->scram("SCRAM-SHA-256", user, password) == "success");
        client->open_stream();
        return client;
    }
};

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("bind: a chosen resource is prepared and bound")
    {
        Fixture f;
        auto client = f.authenticated();
        CHECK(client->bind("Phone") == "alice@localhost/Phone");
    }

    TEST_CASE("bind: the server generates a resource when none is asked for")
    {
        Fixture f;
        auto a = f.authenticated();
        auto b = f.authenticated();
        const std::string ja = a->bind();
        const std::string jb = b->bind();
        CHECK(ja.starts_with("alice@localhost/"));
        CHECK(ja.size() > std::string("alice@localhost/").size());
        CHECK(ja != jb);
    }

    TEST_CASE("bind: the newest session wins a resource conflict")
    {
        Fixture f;
        auto old_session = f.authenticated();
        REQUIRE(old_session->bind("laptop") == "alice@localhost/laptop");
        auto new_session = f.authenticated();
        CHECK(new_session->bind("laptop") == "alice@localhost/laptop");
        CHECK(old_session->expect_stream_error() == "conflict");
    }

    TEST_CASE("bind: the resource limit answers resource-constraint")
    {
        Fixture f(1);
        auto first = f.authenticated();
        REQUIRE(first->bind("one") == "alice@localhost/one");
        auto second = f.authenticated();
        CHECK(second->bind("two") == "resource-constraint");
    }

    TEST_CASE("bind: a stanza before binding is not processed")
    {
        Fixture f;
        auto client = f.authenticated();
        client->send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
        xml::Stanza reply = client->next_stanza();
        CHECK(reply.attr("type") == "error");
        CHECK(reply.attr("id") == "p1");
        CHECK(reply.root().child("error", xmpp::ns::client).child("not-authorized", xmpp::ns::stanzas));
    }

    TEST_CASE("bind: features advertise bind and optional legacy session; session IQ succeeds")
    {
        Fixture f;
        auto client = std::make_unique<XmppClient>(f.server.starttls_port());
        client->open_stream();
        client->starttls();
        REQUIRE(client->scram("SCRAM-SHA-1", "alice", "wonderland") == "success");
        xml::Stanza features = client->open_stream();
        CHECK(features.root().child("bind", xmpp::ns::bind));
        CHECK(features.root().child("session", xmpp::ns::session).child("optional", xmpp::ns::session));
        REQUIRE(client->bind("x") == "alice@localhost/x");
        client->send("<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
        xml::Stanza reply = client->next_stanza();
        CHECK(reply.attr("type") == "result");
        CHECK(reply.attr("id") == "s1");
    }

    TEST_CASE("bind: the server answers a ping once bound")
    {
        Fixture f;
        auto client = f.authenticated();
        REQUIRE(client->bind("r") == "alice@localhost/r");
        client->send("<iq type='get' id='p2' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
        xml::Stanza reply = client->next_stanza();
        CHECK(reply.attr("type") == "result");
        CHECK(reply.attr("id") == "p2");
        CHECK(reply.attr("from") == "localhost");
    }

    TEST_CASE("bind: a forged from ends the stream with invalid-from")
    {
        Fixture f;
        auto client = f.authenticated();
        REQUIRE(client->bind("r") == "alice@localhost/r");
        client->send("<message from='bob@localhost/x' to='bob@localhost'><body>hi</body></message>");
        CHECK(client->expect_stream_error() == "invalid-from");
    }

    TEST_CASE("bind: a message reaches another client's full JID with from stamped")
    {
        Fixture f;
        auto alice = f.authenticated();
        REQUIRE(alice->bind("a") == "alice@localhost/a");
        auto bob = f.authenticated("bob", "builder");
        REQUIRE(bob->bind("b") == "bob@localhost/b");
        alice->send("<message to='bob@localhost/b' type='chat' id='m1'><body>hello bob</body></message>");
        xml::Stanza received = bob->next_stanza();
        CHECK(received.name() == "message");
        CHECK(received.attr("from") == "alice@localhost/a");
        CHECK(received.root().child("body", xmpp::ns::client).text() == "hello bob");
    }

    TEST_CASE("bind: a domain we do not serve gets remote-server-not-found")
    {
        Fixture f;
        auto client = f.authenticated();
        REQUIRE(client->bind("r") == "alice@localhost/r");
        client->send("<iq type='get' id='q' to='other.example'><ping xmlns='urn:xmpp:ping'/></iq>");
        xml::Stanza reply = client->next_stanza();
        CHECK(reply.attr("type") == "error");
        CHECK(reply.root().child("error", xmpp::ns::client).child("remote-server-not-found", xmpp::ns::stanzas));
    }
}
