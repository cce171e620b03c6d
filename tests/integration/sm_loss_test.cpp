// XEP-0198 under an abrupt connection loss: a peer keeps messaging a client whose TCP connection is reset
// (no </stream:stream>, no TLS close, unread data dropped) in the middle of the flow. After the client
// resumes with the count it really handled, every message the server acknowledged to the peer arrives
// exactly once across the old and the new connection, in the order sent.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

constexpr int messages_per_batch = 20;

std::unique_ptr<XmppClient> bound(TernProcess& server, const std::string& user, const std::string& password,
                                  const std::string& resource)
{
    auto client = std::make_unique<XmppClient>(server.starttls_port());
    REQUIRE(client->login(user, password, resource) == user + "@localhost/" + resource);
    return client;
}

std::string enable_sm(XmppClient& client, bool resume)
{
    client.send(resume ? "<enable xmlns='urn:xmpp:sm:3' resume='true'/>" : "<enable xmlns='urn:xmpp:sm:3'/>");
    const xml::Stanza enabled = client.next_stanza();
    REQUIRE(enabled.name() == "enabled");
    return std::string(enabled.attr("id"));
}

// Messages numbered first..last (bodies "1", "2", ...) in one write.
std::string numbered_messages(const std::string& to, int first, int last)
{
    std::string out;
    for (int i = first; i <= last; ++i)
        out += "<message to='" + to + "' type='chat' id='n" + std::to_string(i) + "'><body>" + std::to_string(i) +
               "</body></message>";
    return out;
}

// The receiving side: counts the stanzas it handled (its XEP-0198 h) and keeps the message bodies.
struct Receiver {
    std::vector<int> bodies;
    unsigned handled = 0;

    // Reads until `count` more messages arrived; the server's <r/> requests are read past, not answered.
    void take(XmppClient& client, std::size_t count)
    {
        const std::size_t goal = bodies.size() + count;
        while (bodies.size() < goal) {
            const xml::Stanza s = client.next_stanza();
            if (s.ns() == xmpp::ns::sm) {
                REQUIRE(s.name() == "r");
                continue;
            }
            REQUIRE(s.name() == "message");
            ++handled;
            bodies.push_back(std::stoi(std::string(s.root().child("body", xmpp::ns::client).text())));
        }
    }
};

// The server's acknowledgement of everything the sender sent so far: <r/>, then its <a h/>.
unsigned acknowledged(XmppClient& sender)
{
    sender.send("<r xmlns='urn:xmpp:sm:3'/>");
    const xml::Stanza a = sender.next_stanza();
    REQUIRE(a.name() == "a");
    return static_cast<unsigned>(std::stoul(std::string(a.attr("h"))));
}

// Waits until the server logged `count` detached sessions in all.
bool wait_for_detaches(const TernProcess& server, std::size_t count)
{
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
        const std::string log = server.log();
        std::size_t seen = 0;
        for (auto at = log.find("event=c2s.detached"); at != std::string::npos; at = log.find("event=c2s.detached", at + 1))
            ++seen;
        if (seen >= count) return true;
        if (std::chrono::steady_clock::now() > give_up) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("sm: a connection reset mid-conversation loses no acknowledged message and duplicates none")
    {
        TernProcess server;
        server.set("limits", "sm_resume_timeout", "60");
        server.add_user("alice@localhost", "wonderland");
        server.add_user("bob@localhost", "builder");
        server.start();

        auto alice = bound(server, "alice", "wonderland", "desk");
        enable_sm(*alice, false);
        auto bob = bound(server, "bob", "builder", "phone");
        const std::string id = enable_sm(*bob, true);
        REQUIRE(!id.empty());
        const std::string to = "bob@localhost/phone";

        Receiver receiver;
        int sent = 0;
        // Three losses in a row: each time bob reads only part of what is on its way, the connection is
        // reset with the rest unread (in the kernel's buffers or in flight), and alice goes on sending
        // before and while the server notices.
        for (int loss = 0; loss < 3; ++loss) {
            alice->send(numbered_messages(to, sent + 1, sent + messages_per_batch));
            sent += messages_per_batch;
            receiver.take(*bob, messages_per_batch / 2 + loss);
            alice->send(numbered_messages(to, sent + 1, sent + messages_per_batch));
            sent += messages_per_batch;
            bob->reset_connection();
            alice->send(numbered_messages(to, sent + 1, sent + messages_per_batch));
            sent += messages_per_batch;
            CHECK(acknowledged(*alice) == static_cast<unsigned>(sent));

            REQUIRE(wait_for_detaches(server, loss + 1));
            bob = std::make_unique<XmppClient>(server.starttls_port());
            bob->open_stream();
            bob->starttls();
            REQUIRE(bob->scram("SCRAM-SHA-256", "bob", "builder") == "success");
            bob->open_stream();
            bob->send("<resume xmlns='urn:xmpp:sm:3' previd='" + id + "' h='" + std::to_string(receiver.handled) +
                      "'/>");
            const xml::Stanza resumed = bob->next_stanza();
            REQUIRE(resumed.name() == "resumed");
            CHECK(resumed.attr("previd") == id);
        }
        // What is still owed arrives on the last connection; nothing more follows.
        receiver.take(*bob, static_cast<std::size_t>(sent) - receiver.bodies.size());
        bob->send("<iq type='get' id='end' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
        for (;;) {
            const xml::Stanza s = bob->next_stanza();
            if (s.ns() == xmpp::ns::sm) continue;
            CHECK(s.name() == "iq");
            CHECK(s.id() == "end");
            break;
        }

        std::vector<int> expected;
        for (int i = 1; i <= sent; ++i) expected.push_back(i);
        CHECK(receiver.bodies == expected);
    }
}
