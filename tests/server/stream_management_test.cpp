// XEP-0198 bookkeeping over envelopes (with the time each was first queued) and the bounces of a session
// that ends for good, made from the envelopes alone.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "envelopes.hpp"
#include "server/stream_management.hpp"

using namespace tern;
using server::StreamManagement;

namespace {

using Clock = std::chrono::system_clock;
const Clock::time_point t0 = Clock::time_point(std::chrono::seconds(1700000000));

std::string unacked(const StreamManagement& sm)
{
    std::string out;
    sm.for_each_unacked([&](const server::Unacked& u) { out += u.stanza.bytes(); });
    return out;
}

std::string text(const std::vector<server::Unacked>& list)
{
    std::string out;
    for (const auto& u : list) out += u.stanza.bytes();
    return out;
}

void send(StreamManagement& sm, std::string_view stanza, Clock::time_point at = t0)
{
    sm.sent(test::envelope(stanza), at);
}

StreamManagement enabled(std::uint32_t inbound = 0, std::uint32_t acked = 0)
{
    StreamManagement sm(inbound, acked);
    sm.enable("id", std::chrono::seconds(60));
    return sm;
}

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("stream management counts handled stanzas from zero once enabled")
    {
        StreamManagement sm = enabled();
        CHECK(sm.enabled());
        CHECK(sm.resumable());
        CHECK(sm.inbound() == 0);
        sm.handled();
        sm.handled();
        CHECK(sm.inbound() == 2);
        StreamManagement plain;
        plain.enable("", std::chrono::seconds(60));
        CHECK_FALSE(plain.resumable());
    }

    TEST_CASE("stream management keeps sent stanzas until acknowledged and then releases the queue")
    {
        StreamManagement sm = enabled();
        send(sm, "<message id='1'/>");
        send(sm, "<message id='2'/>");
        send(sm, "<message id='3'/>");
        CHECK(sm.sent_count() == 3);
        CHECK(sm.unacked_count() == 3);
        CHECK(unacked(sm) == "<message id='1'/><message id='2'/><message id='3'/>");

        sm.acknowledge(2);
        CHECK(sm.unacked_count() == 1);
        CHECK(unacked(sm) == "<message id='3'/>");
        CHECK(sm.unacked_bytes() == 17);
        sm.acknowledge(2);  // the same h again acknowledges nothing new
        CHECK(sm.unacked_count() == 1);

        send(sm, "<message id='4'/>");
        CHECK(unacked(sm) == "<message id='3'/><message id='4'/>");
        sm.acknowledge(4);
        CHECK(sm.unacked_count() == 0);
        CHECK(sm.unacked_bytes() == 0);
        CHECK(unacked(sm).empty());
        CHECK(sm.sent_count() == 4);
    }

    TEST_CASE("stream management refuses an h above what was sent and ignores one going backwards")
    {
        StreamManagement sm = enabled();
        send(sm, "<iq id='1'/>");
        send(sm, "<iq id='2'/>");
        CHECK(sm.too_high(3));
        CHECK(sm.too_high(0x7FFFFFFFu));
        CHECK_FALSE(sm.too_high(2));
        CHECK_FALSE(sm.too_high(0));
        sm.acknowledge(1);
        CHECK_FALSE(sm.too_high(0));
        sm.acknowledge(0);  // behind the last h: nothing changes
        CHECK(unacked(sm) == "<iq id='2'/>");
        CHECK(sm.too_high(3));
        CHECK_FALSE(sm.too_high(2));
    }

    TEST_CASE("stream management sequence numbers wrap around at 2^32")
    {
        StreamManagement sm = enabled(0xFFFFFFFEu, 0xFFFFFFFEu);
        sm.handled();
        CHECK(sm.inbound() == 0xFFFFFFFFu);
        sm.handled();
        CHECK(sm.inbound() == 0);
        sm.handled();
        CHECK(sm.inbound() == 1);

        send(sm, "<message id='a'/>");
        send(sm, "<message id='b'/>");
        send(sm, "<message id='c'/>");
        CHECK(sm.sent_count() == 1);  // 0xFFFFFFFE + 3
        CHECK_FALSE(sm.too_high(0xFFFFFFFFu));
        CHECK_FALSE(sm.too_high(1));
        CHECK(sm.too_high(2));
        sm.acknowledge(0);  // a and b
        CHECK(unacked(sm) == "<message id='c'/>");
        CHECK_FALSE(sm.too_high(0xFFFFFFFFu));  // behind, across the wrap
        sm.acknowledge(0xFFFFFFFFu);
        CHECK(unacked(sm) == "<message id='c'/>");
        CHECK(sm.too_high(2));
        sm.acknowledge(1);
        CHECK(sm.unacked_count() == 0);
    }

    TEST_CASE("stream management asks for an ack once until answered, and again while stanzas stay unacknowledged")
    {
        StreamManagement sm = enabled();
        CHECK_FALSE(sm.take_ack_request());
        send(sm, "<message id='1'/>");
        send(sm, "<message id='2'/>");
        CHECK(sm.take_ack_request());
        CHECK_FALSE(sm.take_ack_request());
        send(sm, "<message id='3'/>");
        CHECK_FALSE(sm.take_ack_request());  // still awaiting the answer
        sm.acknowledge(2);
        CHECK(sm.take_ack_request());  // message 3 is not acknowledged yet
        sm.acknowledge(3);
        CHECK_FALSE(sm.take_ack_request());
    }

    TEST_CASE("stream management hands its unacknowledged stanzas over once")
    {
        StreamManagement sm = enabled();
        send(sm, "<message id='1'/>");
        send(sm, "<message id='2'/>");
        CHECK(text(sm.take_unacked()) == "<message id='1'/><message id='2'/>");
        CHECK(sm.unacked_count() == 0);
        CHECK(sm.take_unacked().empty());
        CHECK(sm.sent_count() == 2);
        CHECK_FALSE(sm.too_high(2));
    }

    TEST_CASE("stream management keeps the envelope itself and when it was first queued")
    {
        StreamManagement sm = enabled();
        const auto message = test::envelope("<message from='a@x/r' to='b@x/s' type='chat' id='m'><body>x</body></message>");
        sm.sent(message, t0);
        sm.sent(test::envelope("<presence from='c@x/q'/>"), t0 + std::chrono::seconds(5));
        std::vector<server::Unacked> seen;
        sm.for_each_unacked([&](const server::Unacked& u) { seen.push_back(u); });
        REQUIRE(seen.size() == 2);
        CHECK(seen[0].stanza.same_stanza(message));  // shared, not copied
        CHECK(seen[0].queued == t0);
        CHECK(seen[1].stanza.is(server::StanzaKind::Presence));
        CHECK(seen[1].queued == t0 + std::chrono::seconds(5));
        CHECK(sm.unacked_bytes() == message.bytes().size() + seen[1].stanza.bytes().size());
        // The queue moves whole to a resuming session: the first-queued times travel with it.
        StreamManagement moved = std::move(sm);
        moved.acknowledge(1);
        const auto rest = moved.take_unacked();
        REQUIRE(rest.size() == 1);
        CHECK(rest[0].queued == t0 + std::chrono::seconds(5));
        CHECK(moved.unacked_bytes() == 0);
    }

    TEST_CASE("stream management after a resumption asks for an ack of the retransmitted stanzas")
    {
        StreamManagement sm = enabled();
        send(sm, "<message id='1'/>");
        CHECK(sm.take_ack_request());
        sm.resumed();
        CHECK(sm.take_ack_request());
        sm.acknowledge(1);
        sm.resumed();
        CHECK_FALSE(sm.take_ack_request());
    }

    TEST_CASE("bounces return IQ requests and chat or normal messages to their senders as service-unavailable")
    {
        const auto queue = test::envelopes(
            "<message from='a@x/r' to='b@x/s' type='chat' id='m1'><body>hi</body></message>"
            "<message from='a@x/r' to='b@x' id='m2'><body>hi</body></message>"
            "<message from='a@x/r' to='b@x/s' type='groupchat' id='m3'/>"
            "<message from='a@x/r' to='b@x/s' type='error' id='m4'/>"
            "<message from='a@x/r' to='b@x/s' type='headline' id='m5'/>"
            "<iq from='c@x/q' to='b@x/s' type='set' id='i1'><jingle xmlns='urn:xmpp:jingle:1'/></iq>"
            "<iq from='c@x/q' to='b@x/s' type='result' id='i2'/>"
            "<iq type='get' id='ping-1' to='b@x/s' from='x'><ping xmlns='urn:xmpp:ping'/></iq>"
            "<presence from='c@x/q' to='b@x/s'/>");
        std::vector<server::Unacked> unacked;
        for (const auto& e : queue) unacked.push_back({e, t0});
        const auto out = server::bounces(unacked);
        REQUIRE(out.size() == 4);
        CHECK(out[0].to.str() == "a@x/r");
        CHECK(out[0].stanza.bytes() ==
              "<message from='b@x/s' to='a@x/r' type='error' id='m1'><error type='cancel'><service-unavailable "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
        CHECK(out[1].to.str() == "a@x/r");
        CHECK(out[1].stanza.bytes().find("from='b@x'") != std::string::npos);
        CHECK(out[1].stanza.bytes().find("id='m2'") != std::string::npos);
        CHECK(out[1].stanza.to() == "a@x/r");
        CHECK(out[1].stanza.type() == "error");
        CHECK(out[2].to.str() == "c@x/q");
        CHECK(out[2].stanza.bytes() ==
              "<iq from='b@x/s' to='c@x/q' type='error' id='i1'><jingle xmlns=\"urn:xmpp:jingle:1\"/><error "
              "type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
        // The server's own ping goes "back" to the domain, which nothing in the registry answers to.
        CHECK(out[3].to.str() == "x");
    }
}
