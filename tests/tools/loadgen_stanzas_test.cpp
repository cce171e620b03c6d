#include "loadgen/stanzas.hpp"

#include <doctest/doctest.h>

#include <array>

using namespace tern::loadgen;

TEST_SUITE("tools") {

TEST_CASE("loadgen stamps ids with a tag, a sequence number and the send time")
{
    CHECK(stamp_id('e', 12, 123456789) == "e12-123456789");
    CHECK(parse_stamp("e12-123456789") == Stamp{'e', 12, 123456789});
    CHECK(parse_stamp(stamp_id('c', 0, 1)) == Stamp{'c', 0, 1});
    for (const std::string_view bad : {"", "e12", "e-5", "12-5", "e12-", "e12-x", "e1x-5", "bind1", "e12-5-6", "e12--5"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_stamp(bad));
    }
}

TEST_CASE("loadgen builds the requests it sends")
{
    CHECK(extdisco_request("localhost", "", "e1-2") ==
          "<iq type='get' id='e1-2' to='localhost'><services xmlns='urn:xmpp:extdisco:2'/></iq>");
    CHECK(extdisco_request("example.org", "turn", "x") ==
          "<iq type='get' id='x' to='example.org'><services xmlns='urn:xmpp:extdisco:2' type='turn'/></iq>");
    CHECK(extdisco_credentials_request("localhost", "127.0.0.1", "turns", "i") ==
          "<iq type='get' id='i' to='localhost'><credentials xmlns='urn:xmpp:extdisco:2'>"
          "<service host='127.0.0.1' type='turns'/></credentials></iq>");
    CHECK(ping_request("localhost", "p1-2") == "<iq type='get' id='p1-2' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    CHECK(presence_broadcast("b3-4") == "<presence id='b3-4'><status>load</status></presence>");
    CHECK(chat_message("a@localhost/r", "c5-6", "hi") ==
          "<message type='chat' to='a@localhost/r' id='c5-6'><body>hi</body></message>");
}

TEST_CASE("loadgen mixes chat, pings, presence and extdisco about 60/20/15/5")
{
    CHECK(pick_mixed_event(0.0) == MixedEvent::Chat);
    CHECK(pick_mixed_event(0.5999) == MixedEvent::Chat);
    CHECK(pick_mixed_event(0.60) == MixedEvent::Ping);
    CHECK(pick_mixed_event(0.7999) == MixedEvent::Ping);
    CHECK(pick_mixed_event(0.80) == MixedEvent::Presence);
    CHECK(pick_mixed_event(0.9499) == MixedEvent::Presence);
    CHECK(pick_mixed_event(0.95) == MixedEvent::Extdisco);
    CHECK(pick_mixed_event(0.9999) == MixedEvent::Extdisco);
    std::array<int, mixed_event_kinds> counts{};
    for (int i = 0; i < 1000; ++i) ++counts[static_cast<std::size_t>(pick_mixed_event(i / 1000.0))];
    CHECK(counts == std::array<int, mixed_event_kinds>{600, 200, 150, 50});
    for (const MixedEvent e : {MixedEvent::Chat, MixedEvent::Ping, MixedEvent::Presence, MixedEvent::Extdisco}) {
        CAPTURE(mixed_event_name(e));
        CHECK(mixed_event_of_tag(mixed_event_tag(e)) == e);
    }
    CHECK_FALSE(mixed_event_of_tag('z'));
    CHECK(mixed_event_name(MixedEvent::Presence) == "presence");
}

TEST_CASE("loadgen schedules events at a rate from the start")
{
    CHECK(events_due(0, 100) == 0);
    CHECK(events_due(-1, 100) == 0);
    CHECK(events_due(0.0099, 100) == 0);
    CHECK(events_due(0.0101, 100) == 1);
    CHECK(events_due(60, 250) == 15000);
    CHECK(events_due(1, 0) == 0);
}

}  // TEST_SUITE
