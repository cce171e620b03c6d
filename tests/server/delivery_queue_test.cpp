// Bounded delivery queues: admission, telling a slow reader from a dead one, refusals to the senders.
#include <doctest/doctest.h>

#include <string>

#include "server/delivery_queue.hpp"

using namespace tern;
using server::OutboxStall;
using server::QueueBound;
using namespace std::chrono_literals;

TEST_SUITE("server")
{
    TEST_CASE("a queue admits stanzas within its bytes and its count")
    {
        const QueueBound bound{1000, 3};
        CHECK(bound.admits(0, 0, 400));
        CHECK(bound.admits(400, 1, 600));   // exactly full
        CHECK_FALSE(bound.admits(400, 1, 601));
        CHECK(bound.admits(10, 2, 10));
        CHECK_FALSE(bound.admits(10, 3, 10));  // the fourth stanza, however small
        // An empty queue takes one stanza larger than the bound, so it can still be delivered alone.
        CHECK(bound.admits(0, 0, 5000));
        CHECK_FALSE(bound.admits(5000, 1, 1));
        // 0 means no bound.
        CHECK(QueueBound{}.admits(1u << 30, 1u << 20, 1u << 20));
        CHECK(QueueBound{0, 2}.admits(1u << 30, 1, 1u << 20));
        CHECK_FALSE(QueueBound{0, 2}.admits(1, 2, 1));
    }

    TEST_CASE("a stall starts at the first refusal and ends only when the outbox is half empty")
    {
        OutboxStall stall;
        const auto t0 = OutboxStall::Clock::now();
        CHECK_FALSE(stall.stalled());
        CHECK_FALSE(stall.deadline(60s));
        stall.refused(t0);
        stall.refused(t0 + 5s);  // later refusals do not move the start
        REQUIRE(stall.deadline(60s));
        CHECK(*stall.deadline(60s) == t0 + 60s);
        stall.queued(600, 1000);  // drained a little: a reader that still does not keep up
        CHECK(stall.stalled());
        stall.queued(500, 1000);
        CHECK_FALSE(stall.stalled());
        stall.refused(t0 + 10s);
        CHECK(*stall.deadline(60s) == t0 + 70s);
    }

    TEST_CASE("refusals go back to each sender as resource-constraint of type wait, without the payload")
    {
        const std::string body(5000, 'x');
        const std::string queue =
            "<message xmlns='jabber:client' from='alice@example.org/a' to='bob@example.org/b' type='chat' id='m1'>"
            "<body>" + body + "</body></message>"
            "<iq xmlns='jabber:client' from='carol@example.org/c' to='bob@example.org/b' type='set' id='q1'>"
            "<query xmlns='urn:example'/></iq>"
            "<presence xmlns='jabber:client' from='dave@example.org/d' to='bob@example.org/b'/>"
            "<message xmlns='jabber:client' from='alice@example.org/a' to='bob@example.org/b' type='headline'/>";
        const auto out = server::refusals(queue, xmpp::StanzaErrorCondition::ResourceConstraint);
        REQUIRE(out.size() == 4);
        CHECK(out[0].to.str() == "alice@example.org/a");
        CHECK(out[0].stanza ==
              "<message from='bob@example.org/b' to='alice@example.org/a' type='error' id='m1'><error type='wait'>"
              "<resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
        CHECK(out[0].stanza.find(body) == std::string::npos);
        CHECK(out[1].to.str() == "carol@example.org/c");
        CHECK(out[1].stanza.starts_with("<iq from='bob@example.org/b' to='carol@example.org/c' type='error' id='q1'>"));
        CHECK(out[2].to.str() == "dave@example.org/d");
        CHECK(out[2].stanza.starts_with("<presence "));
        CHECK(out[3].stanza.find("resource-constraint") != std::string::npos);
    }

    TEST_CASE("errors, IQ results and stanzas without a sender are never answered")
    {
        const std::string queue =
            "<message xmlns='jabber:client' from='alice@example.org/a' type='error' id='e'/>"
            "<iq xmlns='jabber:client' from='alice@example.org/a' type='result' id='r'/>"
            "<message xmlns='jabber:client' type='chat' id='n'/>"
            "<message xmlns='jabber:client' from='not a jid@' type='chat' id='b'/>"
            "<r xmlns='urn:xmpp:sm:3'/>";
        CHECK(server::refusals(queue, xmpp::StanzaErrorCondition::ResourceConstraint).empty());
    }
}
