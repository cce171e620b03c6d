// The envelope: fields read once from the parsed stanza, bytes serialized once and shared, and error
// replies built from the envelope alone, byte for byte as from the parsed stanza.
#include <doctest/doctest.h>

#include "envelopes.hpp"
#include "server/envelope.hpp"
#include "xmpp/errors.hpp"

using namespace tern;
using namespace tern::server;

namespace {

xml::Stanza parse(std::string_view text)
{
    return test::stanza(text);
}

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("envelope of a stanza carries its addressing and its serialization")
    {
        const auto message = parse("<message to='b@x/s' from='a&amp;z@x/r' type='chat' id='m1'><body>hi</body></message>");
        const Envelope e = Envelope::of(message);
        CHECK(e.kind() == StanzaKind::Message);
        CHECK(e.name() == "message");
        CHECK(e.to() == "b@x/s");
        CHECK(e.from() == "a&z@x/r");  // unescaped, as an address
        CHECK(e.type() == "chat");
        CHECK(e.id() == "m1");
        CHECK(e.bytes() == message.serialize());
        CHECK(e.request_payload().empty());
        CHECK(e.is_chat_or_normal());
        CHECK_FALSE(e.is_request());

        const Envelope p = Envelope::of(parse("<presence type='unavailable'/>"));
        CHECK(p.is(StanzaKind::Presence));
        CHECK(p.to().empty());
        CHECK(p.from().empty());
        CHECK(p.type() == "unavailable");
        CHECK_FALSE(p.is_chat_or_normal());

        const Envelope iq = Envelope::of(parse("<iq type='set' id='j'><jingle xmlns='urn:xmpp:jingle:1' sid='s'/></iq>"));
        CHECK(iq.is(StanzaKind::Iq));
        CHECK(iq.is_request());
        CHECK(iq.request_payload() == "<jingle xmlns=\"urn:xmpp:jingle:1\" sid=\"s\"/>");
        CHECK(Envelope::of(parse("<iq type='result' id='j'><x xmlns='urn:x'/></iq>")).request_payload().empty());
    }

    TEST_CASE("envelope copies share one serialization")
    {
        const Envelope a = Envelope::of(parse("<message to='b@x'><body>x</body></message>"));
        const Envelope b = a;  // a copy for a second recipient
        CHECK(a.same_stanza(b));
        CHECK(a.bytes().data() == b.bytes().data());
        CHECK_FALSE(a.same_stanza(Envelope::of(parse("<message to='b@x'><body>x</body></message>"))));
    }

    TEST_CASE("an error reply from the envelope equals the one made from the parsed stanza")
    {
        const auto error = xmpp::StanzaError::of(xmpp::StanzaErrorCondition::ServiceUnavailable);
        for (const char* text : {
                 "<message from='a@x/r' to='b@x/s' type='chat' id='m1'><body>hi</body></message>",
                 "<message from='a@x/r' to='b@x'><body>hi</body></message>",
                 "<iq from='c@x/q' to='b@x/s' type='set' id='i1'><jingle xmlns='urn:xmpp:jingle:1'/></iq>",
                 "<iq from='c@x/q' to='b@x/s' type='get' id='i2'><q xmlns='urn:x'><deep a='&lt;'/></q></iq>",
                 "<presence from='c@x/q' to='b@x/s' type='bogus'/>",
             }) {
            CAPTURE(text);
            const auto stanza = parse(text);
            std::string expected;
            xmpp::append_error_reply(expected, stanza, error);
            const auto from_envelope = error_reply(Envelope::of(stanza), error);
            REQUIRE(from_envelope);
            CHECK(from_envelope->bytes() == expected);
            CHECK(from_envelope->type() == "error");
            CHECK(from_envelope->to() == stanza.from());
            CHECK(from_envelope->from() == stanza.to());
            CHECK(from_envelope->id() == stanza.id());
            const auto from_stanza = error_reply(stanza, error);
            REQUIRE(from_stanza);
            CHECK(from_stanza->bytes() == expected);
        }
    }

    TEST_CASE("errors and IQ results are never answered with an error")
    {
        const auto error = xmpp::StanzaError::of(xmpp::StanzaErrorCondition::ServiceUnavailable);
        for (const char* text : {"<message type='error' from='a@x'/>", "<iq type='result' id='1' from='a@x'/>",
                                 "<iq type='error' id='1' from='a@x'/>", "<presence type='error' from='a@x'/>"}) {
            CAPTURE(text);
            CHECK_FALSE(error_reply(Envelope::of(parse(text)), error));
            CHECK_FALSE(error_reply(parse(text), error));
        }
    }

    TEST_CASE("a stanza the server writes itself is an envelope of the given fields and bytes")
    {
        const Envelope e = Envelope::make({StanzaKind::Iq, "a@x/r", "x", "get", "ping-1"},
                                          "<iq type='get' id='ping-1' to='a@x/r' from='x'><ping xmlns='urn:xmpp:ping'/></iq>");
        CHECK(e.is_request());
        CHECK(e.to() == "a@x/r");
        CHECK(e.bytes().starts_with("<iq type='get'"));
        CHECK(test::envelope(e.bytes()).id() == "ping-1");
    }
}
