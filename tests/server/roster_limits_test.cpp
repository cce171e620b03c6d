// The roster cap and what a pending subscription request may keep.
#include <doctest/doctest.h>

#include <string>

#include "server/roster_limits.hpp"
#include "xmpp/ns.hpp"

using namespace tern;
using server::RosterLimits;

namespace {

xml::Stanza parse(const std::string& bytes)
{
    xml::NamespaceScope scope;
    scope.bind("", xmpp::ns::client);
    auto stanza = xml::Stanza::parse(bytes, scope);
    REQUIRE(stanza);
    return std::move(*stanza);
}

const std::string nick = "<nick xmlns='http://jabber.org/protocol/nick'>Alice</nick>";

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("a roster takes items up to its cap")
    {
        const RosterLimits limits{3, 100, 1000};
        CHECK(limits.may_add(0));
        CHECK(limits.may_add(2));
        CHECK_FALSE(limits.may_add(3));
        CHECK_FALSE(limits.may_add(4));
        CHECK(server::roster_limits.max_items == 1000);
    }

    TEST_CASE("a request's room is the per-request bound, within what the account's total has left")
    {
        const RosterLimits limits{1000, 4096, 10000};
        CHECK(limits.request_room(0) == 4096);
        CHECK(limits.request_room(8000) == 2000);
        CHECK(limits.request_room(10000) == 0);
        CHECK(limits.request_room(20000) == 0);
    }

    TEST_CASE("a small request is stored as it is")
    {
        const auto request = parse("<presence from='alice@example.org' to='bob@example.org' type='subscribe' id='s1'>"
                                   "<status>hi, it's Alice</status>" + nick + "</presence>");
        const std::string stored = server::stored_request(request, 4096);
        const auto again = parse(stored);
        CHECK(again.from() == "alice@example.org");
        CHECK(again.to() == "bob@example.org");
        CHECK(again.type() == "subscribe");
        CHECK(again.id() == "s1");
        CHECK(again.root().child("status", xmpp::ns::client).text() == "hi, it's Alice");
        CHECK(again.root().child("nick", "http://jabber.org/protocol/nick").text() == "Alice");
    }

    TEST_CASE("a big request keeps the nickname first, then the status, then other payloads that fit")
    {
        const std::string big(10000, 'x');
        const auto request = parse("<presence from='alice@example.org' to='bob@example.org' type='subscribe'>"
                                   "<x xmlns='urn:example:big'>" + big + "</x><status>hello</status>"
                                   "<x xmlns='urn:example:small'>s</x>" + nick + "</presence>");
        const std::string stored = server::stored_request(request, 512);
        CHECK(stored.size() <= 512);
        const auto again = parse(stored);
        CHECK(again.type() == "subscribe");
        CHECK(again.root().child("nick", "http://jabber.org/protocol/nick").text() == "Alice");
        CHECK(again.root().child("status", xmpp::ns::client).text() == "hello");
        CHECK(again.root().child("x", "urn:example:small"));
        CHECK_FALSE(again.root().child("x", "urn:example:big"));

        // With room for the nickname only, the status goes.
        const std::string bare = server::stored_request(request, 0 + 200);
        CHECK(bare.size() <= 200);
        const auto tight = parse(bare);
        CHECK(tight.root().child("nick", "http://jabber.org/protocol/nick"));
        CHECK_FALSE(tight.root().child("status", xmpp::ns::client));
    }

    TEST_CASE("a request that does not fit even bare is not stored (it is replayed as a plain subscribe)")
    {
        const auto request = parse("<presence from='alice@example.org' to='bob@example.org' type='subscribe'/>");
        CHECK(server::stored_request(request, 20).empty());
        CHECK(server::stored_request(std::string_view("<presence type='subscribe'/>"), 0).empty());
        CHECK(server::stored_request(std::string_view("<presence"), 4096).empty());
        CHECK_FALSE(server::stored_request(std::string_view("<presence type='subscribe'/>"), 4096).empty());
    }
}
