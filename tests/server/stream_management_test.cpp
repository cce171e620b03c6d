// XEP-0198 bookkeeping, the outbound stanza splitter and the bounces of a session that ends for good.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "server/stream_management.hpp"

using namespace tern;
using server::StreamManagement;

namespace {

std::vector<server::OutboundStanza> split(std::string_view bytes)
{
    std::vector<server::OutboundStanza> out;
    while (auto stanza = server::take_outbound_stanza(bytes)) out.push_back(*stanza);
    return out;
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
    TEST_CASE("outbound splitter finds each element with its name, from and type")
    {
        const std::string m = "<message from='a@x/r' to='b@x' type='chat'><body>1 &lt; 2 &gt; 0</body></message>";
        const std::string p = "<presence from=\"b@x/r\"/>";
        const std::string i = "<iq type='get' id='1'><q xmlns='urn:x'><![CDATA[</iq><x>]]></q><e/></iq>";
        const std::string all = m + p + "\n " + i;
        const auto pieces = split(all);
        REQUIRE(pieces.size() == 3);
        CHECK(pieces[0].bytes == m);
        CHECK(pieces[0].name == "message");
        CHECK(pieces[0].from == "a@x/r");
        CHECK(pieces[0].type == "chat");
        CHECK(pieces[1].bytes == p);
        CHECK(pieces[1].name == "presence");
        CHECK(pieces[1].from == "b@x/r");
        CHECK(pieces[1].type.empty());
        CHECK(pieces[2].bytes == i);
        CHECK(pieces[2].name == "iq");
        CHECK(pieces[2].from.empty());
        CHECK(pieces[2].type == "get");
    }

    TEST_CASE("outbound splitter is not fooled by markup inside attribute values or nested same-name elements")
    {
        const std::string a = "<presence from='a&amp;b@x/>' status=\"x>/>\"><presence><x/></presence></presence>";
        const std::string b = "<message/>";
        const std::string all = a + b;
        const auto pieces = split(all);
        REQUIRE(pieces.size() == 2);
        CHECK(pieces[0].bytes == a);
        CHECK(pieces[0].from == "a&amp;b@x/>");
        CHECK(pieces[1].bytes == b);
    }

    TEST_CASE("outbound splitter returns what does not parse as one nameless piece")
    {
        for (const std::string bad : {"<message><body>unterminated", "text", "<message from='a", "< message/>"}) {
            CAPTURE(bad);
            const auto pieces = split(bad);
            REQUIRE(pieces.size() == 1);
            CHECK(pieces[0].bytes == bad);
            CHECK(pieces[0].name.empty());
        }
        CHECK(split("").empty());
        CHECK(split(" \r\n").empty());
    }

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
        sm.sent("<message id='1'/>");
        sm.sent("<message id='2'/>");
        sm.sent("<message id='3'/>");
        CHECK(sm.sent_count() == 3);
        CHECK(sm.unacked_count() == 3);
        CHECK(sm.unacked() == "<message id='1'/><message id='2'/><message id='3'/>");

        sm.acknowledge(2);
        CHECK(sm.unacked_count() == 1);
        CHECK(sm.unacked() == "<message id='3'/>");
        CHECK(sm.unacked_bytes() == 17);
        sm.acknowledge(2);  // the same h again acknowledges nothing new
        CHECK(sm.unacked_count() == 1);

        sm.sent("<message id='4'/>");
        CHECK(sm.unacked() == "<message id='3'/><message id='4'/>");
        sm.acknowledge(4);
        CHECK(sm.unacked_count() == 0);
        CHECK(sm.unacked_bytes() == 0);
        CHECK(sm.unacked().empty());
        CHECK(sm.sent_count() == 4);
    }

    TEST_CASE("stream management refuses an h above what was sent and ignores one going backwards")
    {
        StreamManagement sm = enabled();
        sm.sent("<iq id='1'/>");
        sm.sent("<iq id='2'/>");
        CHECK(sm.too_high(3));
        CHECK(sm.too_high(0x7FFFFFFFu));
        CHECK_FALSE(sm.too_high(2));
        CHECK_FALSE(sm.too_high(0));
        sm.acknowledge(1);
        CHECK_FALSE(sm.too_high(0));
        sm.acknowledge(0);  // behind the last h: nothing changes
        CHECK(sm.unacked() == "<iq id='2'/>");
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

        sm.sent("<message id='a'/>");
        sm.sent("<message id='b'/>");
        sm.sent("<message id='c'/>");
        CHECK(sm.sent_count() == 1);  // 0xFFFFFFFE + 3
        CHECK_FALSE(sm.too_high(0xFFFFFFFFu));
        CHECK_FALSE(sm.too_high(1));
        CHECK(sm.too_high(2));
        sm.acknowledge(0);  // a and b
        CHECK(sm.unacked() == "<message id='c'/>");
        CHECK_FALSE(sm.too_high(0xFFFFFFFFu));  // behind, across the wrap
        sm.acknowledge(0xFFFFFFFFu);
        CHECK(sm.unacked() == "<message id='c'/>");
        CHECK(sm.too_high(2));
        sm.acknowledge(1);
        CHECK(sm.unacked_count() == 0);
    }

    TEST_CASE("stream management asks for an ack once until answered, and again while stanzas stay unacknowledged")
    {
        StreamManagement sm = enabled();
        CHECK_FALSE(sm.take_ack_request());
        sm.sent("<message id='1'/>");
        sm.sent("<message id='2'/>");
        CHECK(sm.take_ack_request());
        CHECK_FALSE(sm.take_ack_request());
        sm.sent("<message id='3'/>");
        CHECK_FALSE(sm.take_ack_request());  // still awaiting the answer
        sm.acknowledge(2);
        CHECK(sm.take_ack_request());  // message 3 is not acknowledged yet
        sm.acknowledge(3);
        CHECK_FALSE(sm.take_ack_request());
    }

    TEST_CASE("stream management hands its unacknowledged stanzas over once")
    {
        StreamManagement sm = enabled();
        sm.sent("<message id='1'/>");
        sm.sent("<message id='2'/>");
        CHECK(sm.take_unacked() == "<message id='1'/><message id='2'/>");
        CHECK(sm.unacked_count() == 0);
        CHECK(sm.take_unacked().empty());
        CHECK(sm.sent_count() == 2);
        CHECK_FALSE(sm.too_high(2));
    }

    TEST_CASE("stream management after a resumption asks for an ack of the retransmitted stanzas")
    {
        StreamManagement sm = enabled();
        sm.sent("<message id='1'/>");
        CHECK(sm.take_ack_request());
        sm.resumed();
        CHECK(sm.take_ack_request());
        sm.acknowledge(1);
        sm.resumed();
        CHECK_FALSE(sm.take_ack_request());
    }

    TEST_CASE("bounces return IQ requests and chat or normal messages to their senders as service-unavailable")
    {
        const std::string queue =
            "<message from='a@x/r' to='b@x/s' type='chat' id='m1'><body>hi</body></message>"
            "<message from='a@x/r' to='b@x' id='m2'><body>hi</body></message>"
            "<message from='a@x/r' to='b@x/s' type='groupchat' id='m3'/>"
            "<message from='a@x/r' to='b@x/s' type='error' id='m4'/>"
            "<message from='a@x/r' to='b@x/s' type='headline' id='m5'/>"
            "<iq from='c@x/q' to='b@x/s' type='set' id='i1'><jingle xmlns='urn:xmpp:jingle:1'/></iq>"
            "<iq from='c@x/q' to='b@x/s' type='result' id='i2'/>"
            "<iq type='get' id='ping-1' to='b@x/s' from='x'><ping xmlns='urn:xmpp:ping'/></iq>"
            "<presence from='c@x/q' to='b@x/s'/>";
        const auto out = server::bounces(queue);
        REQUIRE(out.size() == 4);
        CHECK(out[0].to.str() == "a@x/r");
        CHECK(out[0].stanza ==
              "<message from='b@x/s' to='a@x/r' type='error' id='m1'><error type='cancel'><service-unavailable "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
        CHECK(out[1].to.str() == "a@x/r");
        CHECK(out[1].stanza.find("from='b@x'") != std::string::npos);
        CHECK(out[1].stanza.find("id='m2'") != std::string::npos);
        CHECK(out[2].to.str() == "c@x/q");
        CHECK(out[2].stanza ==
              "<iq from='b@x/s' to='c@x/q' type='error' id='i1'><jingle xmlns=\"urn:xmpp:jingle:1\"/><error "
              "type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
        // The server's own ping goes "back" to the domain, which nothing in the registry answers to.
        CHECK(out[3].to.str() == "x");
    }
}
