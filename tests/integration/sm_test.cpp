// XEP-0198 stream management, XEP-0352 client state indication and the server's XEP-0199 pings on a real
// ternd with two workers (so a resumed session usually moves to the other worker).
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

struct Fixture {
    TernProcess server;
    explicit Fixture(const std::string& resume_timeout = "300", const std::string& idle_timeout = "600")
    {
        server.set("limits", "sm_resume_timeout", resume_timeout);
        server.set("limits", "idle_timeout", idle_timeout);
        server.add_user("alice@localhost", "wonderland");
        server.add_user("bob@localhost", "builder");
        server.add_user("carol@localhost", "singer");
        server.start();
    }
    std::unique_ptr<XmppClient> authenticated(const std::string& user, const std::string& password)
    {
        auto client = std::make_unique<XmppClient>(server.starttls_port());
        client->open_stream();
        client->starttls();
        REQUIRE(client->scram("SCRAM-SHA-256", user, password) == "success");
        const xml::Stanza features = client->open_stream();
        CHECK(features.root().child("sm", xmpp::ns::sm));
        CHECK(features.root().child("csi", xmpp::ns::csi));
        return client;
    }
    std::unique_ptr<XmppClient> bound(const std::string& user, const std::string& password, const std::string& resource)
    {
        auto client = authenticated(user, password);
        REQUIRE(client->bind(resource) == user + "@localhost/" + resource);
        return client;
    }
};

// Enables stream management; returns the resumption id ("" without resumption).
std::string enable(XmppClient& client, bool resume)
{
    client.send(resume ? "<enable xmlns='urn:xmpp:sm:3' resume='true'/>" : "<enable xmlns='urn:xmpp:sm:3'/>");
    const xml::Stanza enabled = client.next_stanza();
    REQUIRE(enabled.name() == "enabled");
    CHECK(enabled.ns() == xmpp::ns::sm);
    return std::string(enabled.attr("id"));
}

std::string message(const std::string& to, const std::string& body)
{
    return "<message to='" + to + "' type='chat'><body>" + body + "</body></message>";
}

std::string body_of(const xml::Stanza& stanza)
{
    return std::string(stanza.root().child("body", xmpp::ns::client).text());
}

void expect_message(XmppClient& client, const std::string& body)
{
    const xml::Stanza stanza = client.next_stanza();
    CHECK(stanza.name() == "message");
    CHECK(body_of(stanza) == body);
}

void expect_r(XmppClient& client)
{
    const xml::Stanza r = client.next_stanza();
    CHECK(r.name() == "r");
    CHECK(r.ns() == xmpp::ns::sm);
}

// A round trip to the server: everything the client sent before has been routed when it returns.
void round_trip(XmppClient& client, const std::string& id = "rt")
{
    client.send("<iq type='get' id='" + id + "' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    const xml::Stanza result = client.next_stanza();
    CHECK(result.name() == "iq");
    CHECK(result.attr("type") == "result");
    CHECK(result.id() == id);
}

std::string resume_request(const std::string& previd, unsigned h)
{
    return "<resume xmlns='urn:xmpp:sm:3' previd='" + previd + "' h='" + std::to_string(h) + "'/>";
}

std::string failed_condition(const xml::Stanza& failed)
{
    REQUIRE(failed.name() == "failed");
    return std::string(failed.root().first_child_element().name());
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("sm: acks count stanzas both ways")
    {
        Fixture f;
        auto alice = f.bound("alice", "wonderland", "a");
        auto bob = f.bound("bob", "builder", "b");
        CHECK(enable(*alice, false).empty());

        alice->send(message("bob@localhost/b", "1") + message("bob@localhost/b", "2"));
        alice->send("<r xmlns='urn:xmpp:sm:3'/>");
        const xml::Stanza a = alice->next_stanza();
        CHECK(a.name() == "a");
        CHECK(a.attr("h") == "2");
        expect_message(*bob, "1");
        expect_message(*bob, "2");

        bob->send(message("alice@localhost/a", "3"));
        expect_message(*alice, "3");
        expect_r(*alice);  // the server asks as soon as it sent something
        alice->send("<a xmlns='urn:xmpp:sm:3' h='1'/>");
        round_trip(*alice);
        expect_r(*alice);
        alice->send("<a xmlns='urn:xmpp:sm:3' h='2'/>");
        alice->send("<a xmlns='urn:xmpp:sm:3' h='7'/>");
        CHECK(alice->expect_stream_error() == "undefined-condition");
    }

    TEST_CASE("sm: a dropped connection is resumed on a new one, every unacknowledged message exactly once")
    {
        Fixture f;
        auto alice = f.bound("alice", "wonderland", "a");
        auto bob = f.bound("bob", "builder", "phone");
        const std::string id = enable(*bob, true);
        REQUIRE(id.size() >= 32);

        alice->send(message("bob@localhost/phone", "m1"));
        expect_message(*bob, "m1");
        expect_r(*bob);
        bob->send("<a xmlns='urn:xmpp:sm:3' h='1'/>");
        alice->send(message("bob@localhost/phone", "m2"));
        expect_message(*bob, "m2");  // seen, but never acknowledged to the server
        expect_r(*bob);

        bob.reset();  // TCP gone without </stream:stream>
        REQUIRE(f.server.wait_for_log("event=c2s.detached"));
        alice->send(message("bob@localhost/phone", "m3") + message("bob@localhost/phone", "m4"));
        round_trip(*alice);  // and no error came back for m3 and m4: the resource is still there

        auto phone = f.authenticated("bob", "builder");
        phone->send(resume_request(id, 2));
        const xml::Stanza resumed = phone->next_stanza();
        REQUIRE(resumed.name() == "resumed");
        CHECK(resumed.attr("previd") == id);
        CHECK(resumed.attr("h") == "0");  // bob sent no stanza; its <a/> is not one
        expect_message(*phone, "m3");
        expect_message(*phone, "m4");
        expect_r(*phone);
        phone->send("<a xmlns='urn:xmpp:sm:3' h='4'/>");

        alice->send(message("bob@localhost/phone", "m5"));
        expect_message(*phone, "m5");
        expect_r(*phone);
        phone->send(message("alice@localhost/a", "back"));
        expect_message(*alice, "back");
        CHECK(f.server.log().find("event=c2s.resumed") != std::string::npos);
    }

    TEST_CASE("sm: the client's h decides what is sent again")
    {
        Fixture f;
        auto alice = f.bound("alice", "wonderland", "a");
        auto bob = f.bound("bob", "builder", "phone");
        const std::string id = enable(*bob, true);
        alice->send(message("bob@localhost/phone", "m1") + message("bob@localhost/phone", "m2"));
        round_trip(*alice);
        bob.reset();
        REQUIRE(f.server.wait_for_log("event=c2s.detached"));

        auto phone = f.authenticated("bob", "builder");
        phone->send(resume_request(id, 0));
        REQUIRE(phone->next_stanza().name() == "resumed");
        expect_message(*phone, "m1");
        expect_message(*phone, "m2");
        expect_r(*phone);
    }

    TEST_CASE("sm: resuming a session whose old connection is still open ends that one with a conflict")
    {
        Fixture f;
        auto bob = f.bound("bob", "builder", "phone");
        const std::string id = enable(*bob, true);
        auto phone = f.authenticated("bob", "builder");
        phone->send(resume_request(id, 0));
        CHECK(phone->next_stanza().name() == "resumed");
        CHECK(bob->expect_stream_error() == "conflict");

        auto alice = f.bound("alice", "wonderland", "a");
        alice->send(message("bob@localhost/phone", "to the new one"));
        expect_message(*phone, "to the new one");
    }

    TEST_CASE("sm: resumption fails for unknown ids, other accounts' ids and cleanly closed sessions")
    {
        Fixture f;
        auto bob = f.bound("bob", "builder", "phone");
        const std::string id = enable(*bob, true);

        auto carol = f.authenticated("carol", "singer");
        carol->send(resume_request(id, 0));
        CHECK(failed_condition(carol->next_stanza()) == "item-not-found");
        carol->send(resume_request("0123456789abcdef0123456789abcdef", 0));
        CHECK(failed_condition(carol->next_stanza()) == "item-not-found");
        CHECK(carol->bind("laptop") == "carol@localhost/laptop");  // the stream goes on

        // Bob's session was not touched.
        carol->send(message("bob@localhost/phone", "still there"));
        expect_message(*bob, "still there");

        bob->send("</stream:stream>");
        CHECK(bob->expect_stream_error().empty());
        auto again = f.authenticated("bob", "builder");
        again->send(resume_request(id, 0));
        CHECK(failed_condition(again->next_stanza()) == "item-not-found");
    }

    TEST_CASE("sm: a session not resumed in time ends, and its queued message and IQ bounce to their senders")
    {
        Fixture f("2");
        auto alice = f.bound("alice", "wonderland", "a");
        auto bob = f.bound("bob", "builder", "phone");
        const std::string id = enable(*bob, true);
        bob.reset();
        REQUIRE(f.server.wait_for_log("event=c2s.detached"));

        alice->send("<message to='bob@localhost/phone' type='chat' id='m1'><body>lost?</body></message>");
        alice->send("<iq to='bob@localhost/phone' type='set' id='j1'><jingle xmlns='urn:xmpp:jingle:1' "
                    "action='session-initiate' sid='s1'/></iq>");
        CHECK_THROWS(alice->next(std::chrono::milliseconds(500)));  // queued for bob meanwhile
        const xml::Stanza bounced_message = alice->next_stanza(std::chrono::seconds(5));
        CHECK(bounced_message.name() == "message");
        CHECK(bounced_message.attr("type") == "error");
        CHECK(bounced_message.id() == "m1");
        CHECK(bounced_message.attr("from") == "bob@localhost/phone");
        CHECK(bounced_message.root().child("error", xmpp::ns::client).child("service-unavailable", xmpp::ns::stanzas));
        const xml::Stanza bounced_iq = alice->next_stanza();
        CHECK(bounced_iq.name() == "iq");
        CHECK(bounced_iq.attr("type") == "error");
        CHECK(bounced_iq.id() == "j1");
        CHECK(bounced_iq.root().child("error", xmpp::ns::client).child("service-unavailable", xmpp::ns::stanzas));
        CHECK(f.server.log().find("event=c2s.resumption_expired") != std::string::npos);
        CHECK(f.server.wait_for_log("event=c2s.unacked_bounced jid=bob@localhost/phone count=2"));

        auto late = f.authenticated("bob", "builder");
        late->send(resume_request(id, 0));
        CHECK(failed_condition(late->next_stanza()) == "item-not-found");
        CHECK(late->bind("phone") == "bob@localhost/phone");
    }

    TEST_CASE("csi: an inactive client gets presence held back, the latest per sender, while messages pass")
    {
        Fixture f;
        auto alice = f.bound("alice", "wonderland", "a");
        auto carol = f.bound("carol", "singer", "c");
        auto bob = f.bound("bob", "builder", "phone");
        bob->send("<inactive xmlns='urn:xmpp:csi:0'/>");
        round_trip(*bob, "inactive");

        alice->send("<presence to='bob@localhost/phone'><show>away</show></presence>");
        alice->send("<presence to='bob@localhost/phone'><show>dnd</show></presence>");
        round_trip(*alice);
        carol->send("<presence to='bob@localhost/phone'/>");
        round_trip(*carol);
        CHECK_THROWS(bob->next(std::chrono::milliseconds(300)));  // nothing yet

        alice->send(message("bob@localhost/phone", "call?"));
        const xml::Stanza first = bob->next_stanza();
        CHECK(first.name() == "presence");
        CHECK(first.attr("from") == "alice@localhost/a");
        CHECK(first.root().child("show", xmpp::ns::client).text() == "dnd");
        const xml::Stanza second = bob->next_stanza();
        CHECK(second.name() == "presence");
        CHECK(second.attr("from") == "carol@localhost/c");
        expect_message(*bob, "call?");

        carol->send("<presence to='bob@localhost/phone'><show>chat</show></presence>");
        round_trip(*carol);
        CHECK_THROWS(bob->next(std::chrono::milliseconds(300)));
        bob->send("<active xmlns='urn:xmpp:csi:0'/>");
        const xml::Stanza flushed = bob->next_stanza();
        CHECK(flushed.name() == "presence");
        CHECK(flushed.root().child("show", xmpp::ns::client).text() == "chat");
        alice->send("<presence to='bob@localhost/phone'/>");
        CHECK(bob->next_stanza().name() == "presence");  // active again: at once
    }

    TEST_CASE("ping: a quiet client is pinged before the idle timeout; silence ends it, or detaches a resumable one")
    {
        Fixture f("300", "10");  // pings after 6 s of silence, gives up after 10 s
        auto answers = f.bound("alice", "wonderland", "answers");
        auto silent = f.bound("bob", "builder", "silent");
        auto resumable = f.bound("carol", "singer", "resumable");
        const std::string id = enable(*resumable, true);

        const xml::Stanza ping = answers->next_stanza(std::chrono::seconds(9));
        CHECK(ping.name() == "iq");
        CHECK(ping.attr("type") == "get");
        CHECK(ping.attr("from") == "localhost");
        CHECK(ping.attr("to") == "alice@localhost/answers");
        CHECK(ping.root().child("ping", xmpp::ns::ping));
        answers->send("<iq type='result' id='" + std::string(ping.id()) + "' to='localhost'/>");

        CHECK(silent->next_stanza(std::chrono::seconds(3)).root().child("ping", xmpp::ns::ping));
        CHECK(resumable->next_stanza(std::chrono::seconds(3)).root().child("ping", xmpp::ns::ping));
        CHECK(silent->expect_stream_error(std::chrono::seconds(6)) == "connection-timeout");
        expect_r(*resumable);
        CHECK(resumable->wait_closed(std::chrono::seconds(3)));  // no stream error: it may come back

        round_trip(*answers);  // past the idle timeout, still there
        auto back = f.authenticated("carol", "singer");
        back->send(resume_request(id, 1));
        CHECK(back->next_stanza().name() == "resumed");
    }
}
