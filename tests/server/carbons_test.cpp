// XEP-0280 eligibility and the exact shape of a carbon copy.
#include <doctest/doctest.h>

#include "server/carbons.hpp"
#include "xml/tokenizer.hpp"

using namespace tern;
using namespace tern::server;

namespace {

xml::Stanza parse(std::string_view text)
{
    xml::NamespaceScope scope;
    scope.bind({}, "jabber:client");
    auto stanza = xml::Stanza::parse(text, scope);
    REQUIRE(stanza);
    return std::move(*stanza);
}

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("carbons: chat messages and normal messages with a body are eligible")
    {
        CHECK(carbon_eligible(parse("<message type='chat'/>")));
        CHECK(carbon_eligible(parse("<message type='chat'><body>x</body></message>")));
        CHECK(carbon_eligible(parse("<message><body>x</body></message>")));
        CHECK(carbon_eligible(parse("<message type='normal'><body>x</body></message>")));
        CHECK_FALSE(carbon_eligible(parse("<message/>")));
        CHECK_FALSE(carbon_eligible(parse("<message><body xmlns='urn:other'>x</body></message>")));
        CHECK_FALSE(carbon_eligible(parse("<message type='headline'><body>x</body></message>")));
        CHECK_FALSE(carbon_eligible(parse("<message type='groupchat'><body>x</body></message>")));
        CHECK_FALSE(carbon_eligible(parse("<message type='error'><body>x</body></message>")));
        CHECK_FALSE(carbon_eligible(parse("<presence/>")));
    }

    TEST_CASE("carbons: private, no-copy and copies themselves are not copied")
    {
        CHECK_FALSE(carbon_eligible(parse("<message type='chat'><private xmlns='urn:xmpp:carbons:2'/></message>")));
        CHECK_FALSE(carbon_eligible(parse("<message type='chat'><no-copy xmlns='urn:xmpp:hints'/></message>")));
        CHECK_FALSE(carbon_eligible(parse("<message type='chat'><sent xmlns='urn:xmpp:carbons:2'/></message>")));
        CHECK_FALSE(carbon_eligible(parse("<message type='chat'><received xmlns='urn:xmpp:carbons:2'/></message>")));
        CHECK(carbon_eligible(parse("<message type='chat'><private xmlns='urn:other'/><no-store xmlns='urn:xmpp:hints'/></message>")));
    }

    TEST_CASE("carbons: the copy wraps the original in sent or received and forwarded")
    {
        std::string out;
        append_carbon(out, CarbonDirection::Received, "romeo@montague.lit", "romeo@montague.lit/home", "chat",
                      "<message xmlns=\"jabber:client\" type=\"chat\"><body>a&amp;b</body></message>");
        CHECK(out == "<message from='romeo@montague.lit' to='romeo@montague.lit/home' type='chat'>"
                     "<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
                     "<message xmlns=\"jabber:client\" type=\"chat\"><body>a&amp;b</body></message>"
                     "</forwarded></received></message>");
        out.clear();
        append_carbon(out, CarbonDirection::Sent, "a@b", "a@b/c", "", "<message/>");
        CHECK(out == "<message from='a@b' to='a@b/c'><sent xmlns='urn:xmpp:carbons:2'>"
                     "<forwarded xmlns='urn:xmpp:forward:0'><message/></forwarded></sent></message>");
    }
}
