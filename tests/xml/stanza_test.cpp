#include "xml/stanza.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "draft_examples.hpp"
#include "xml/tokenizer.hpp"

using namespace tern::xml;

namespace {

constexpr std::string_view client_ns = "jabber:client";

NamespaceScope client_scope()
{
    NamespaceScope s;
    s.bind("", client_ns);
    s.bind("stream", stream_ns);
    return s;
}

Stanza must_parse(std::string_view bytes, const NamespaceScope& scope = client_scope())
{
    auto r = Stanza::parse(bytes, scope);
    if (!r) FAIL("parse failed: ", r.error().text, " for ", std::string(bytes));
    return std::move(*r);
}

// parse(serialize(parse(x))) serializes to the same bytes as parse(x).
void check_round_trip(std::string_view bytes, const NamespaceScope& scope = client_scope())
{
    const Stanza first = must_parse(bytes, scope);
    const std::string once = first.serialize();
    // The serialized form is self-contained: it needs no stream scope at all.
    const Stanza second = must_parse(once, NamespaceScope{});
    CHECK(second.serialize() == once);
    CHECK(second.name() == first.name());
    CHECK(second.ns() == first.ns());
}

}  // namespace

TEST_SUITE("xml")
{
TEST_CASE("stanza parses every draft example element with resolved namespaces")
{
    struct Expect {
        std::string_view name;
        std::string_view ns;
    };
    const std::vector<Expect> expected = {
        {"features", stream_ns},
        {"starttls", "urn:ietf:params:xml:ns:xmpp-tls"},
        {"proceed", "urn:ietf:params:xml:ns:xmpp-tls"},
        {"failure", "urn:ietf:params:xml:ns:xmpp-tls"},
        {"auth", "urn:ietf:params:xml:ns:xmpp-sasl"},
        {"challenge", "urn:ietf:params:xml:ns:xmpp-sasl"},
        {"response", "urn:ietf:params:xml:ns:xmpp-sasl"},
        {"response", "urn:ietf:params:xml:ns:xmpp-sasl"},
        {"success", "urn:ietf:params:xml:ns:xmpp-sasl"},
        {"failure", "urn:ietf:params:xml:ns:xmpp-sasl"},
        {"features", stream_ns},
        {"iq", client_ns},
        {"iq", client_ns},
        {"iq", client_ns},
        {"message", client_ns},
        {"presence", client_ns},
        {"error", stream_ns},
    };
    REQUIRE(expected.size() == test::draft_elements.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO(test::draft_elements[i]);
        const Stanza s = must_parse(test::draft_elements[i]);
        CHECK(s.name() == expected[i].name);
        CHECK(s.ns() == expected[i].ns);
        check_round_trip(test::draft_elements[i]);
    }
}

TEST_CASE("stanza resolves children of the draft examples")
{
    const Stanza features = must_parse(test::draft_elements[0]);
    const Element starttls = features.root().child("starttls", "urn:ietf:params:xml:ns:xmpp-tls");
    REQUIRE(starttls);
    CHECK(starttls.child("required", "urn:ietf:params:xml:ns:xmpp-tls"));
    const Element mechs = features.root().child("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl");
    REQUIRE(mechs);
    CHECK(mechs.child_count() == 2);
    std::vector<std::string_view> names;
    for (Element m : mechs.children()) names.push_back(m.text());
    CHECK(names == std::vector<std::string_view>{"DIGEST-MD5", "PLAIN"});
    CHECK_FALSE(features.root().child("starttls", client_ns));
    CHECK_FALSE(features.root().child("mechanisms", stream_ns));

    const Stanza bind = must_parse(test::draft_elements[11]);
    CHECK(bind.type() == "set");
    CHECK(bind.id() == "bind_2");
    const Element b = bind.root().child("bind", "urn:ietf:params:xml:ns:xmpp-bind");
    REQUIRE(b);
    CHECK(b.child("resource", "urn:ietf:params:xml:ns:xmpp-bind").text() == "someresource");
    CHECK(b.first_child_element().name() == "resource");

    const Stanza err = must_parse(test::draft_elements[16]);
    const Element text = err.root().child("text", "urn:ietf:params:xml:ns:xmpp-streams");
    REQUIRE(text);
    CHECK(text.lang() == "en");
    CHECK(err.root().child("escape-your-data", "application-ns"));
    CHECK(err.serialize().rfind("<error xmlns=\"http://etherx.jabber.org/streams\">", 0) == 0);
}

TEST_CASE("stanza parses dialback elements against a stream scope declaring db")
{
    NamespaceScope scope;
    scope.bind("stream", stream_ns);
    scope.bind("", "jabber:server");
    scope.bind("db", "jabber:server:dialback");
    for (std::string_view e : test::dialback_elements) {
        const Stanza s = must_parse(e, scope);
        CHECK(s.ns() == "jabber:server:dialback");
        CHECK(s.to() == (s.name() == "result" ? "Receiving Server" : "Originating Server"));
        check_round_trip(e, scope);
    }
    CHECK(must_parse(test::dialback_elements[0], scope).serialize() ==
          "<result xmlns=\"jabber:server:dialback\" to=\"Receiving Server\" from=\"Originating Server\">\n"
          "  98AF014EDC0...\n</result>");
}

TEST_CASE("stanza gives the root an explicit xmlns inherited from the stream")
{
    const Stanza s = must_parse("<message to='romeo@example.net' type='chat'><body>hi</body></message>");
    CHECK(s.serialize() == "<message xmlns=\"jabber:client\" to=\"romeo@example.net\" type=\"chat\"><body>hi</body></message>");
    CHECK(s.root().child("body", client_ns).text() == "hi");
    const Stanza none = must_parse("<x/>", NamespaceScope{});
    CHECK(none.ns().empty());
    CHECK(none.serialize() == "<x xmlns=\"\"/>");
}

TEST_CASE("stanza unprefixes elements and keeps every namespace right")
{
    const Stanza s = must_parse("<foo:x xmlns:foo='urn:x'><y/><foo:z><w/></foo:z><v xmlns='urn:v'><foo:u/></v></foo:x>");
    const Element x = s.root();
    CHECK(x.name() == "x");
    CHECK(x.ns() == "urn:x");
    CHECK(x.child("y", client_ns));
    const Element z = x.child("z", "urn:x");
    REQUIRE(z);
    CHECK(z.child("w", client_ns));
    const Element v = x.child("v", "urn:v");
    REQUIRE(v);
    CHECK(v.child("u", "urn:x"));
    CHECK(s.serialize() ==
          "<x xmlns=\"urn:x\" xmlns:foo=\"urn:x\"><y xmlns=\"jabber:client\"/><z><w xmlns=\"jabber:client\"/></z>"
          "<v xmlns=\"urn:v\"><u xmlns=\"urn:x\"/></v></x>");
    check_round_trip("<foo:x xmlns:foo='urn:x'><y/><foo:z><w/></foo:z><v xmlns='urn:v'><foo:u/></v></foo:x>");
}

TEST_CASE("stanza handles a prefixed element that also declares a different default namespace")
{
    const char* in = "<foo:x xmlns:foo='urn:x' xmlns='urn:d'><y/><foo:z/></foo:x>";
    const Stanza s = must_parse(in);
    CHECK(s.ns() == "urn:x");
    CHECK(s.root().child("y", "urn:d"));
    CHECK(s.root().child("z", "urn:x"));
    CHECK(s.serialize() == "<x xmlns:foo=\"urn:x\" xmlns=\"urn:x\"><y xmlns=\"urn:d\"/><z/></x>");
    check_round_trip(in);
}

TEST_CASE("stanza resolves stream-prefixed elements inside a stanza")
{
    const Stanza s = must_parse("<message><stream:error><x/></stream:error></message>");
    const Element e = s.root().child("error", stream_ns);
    REQUIRE(e);
    CHECK(e.child("x", client_ns));
    CHECK(s.serialize() ==
          "<message xmlns=\"jabber:client\"><error xmlns=\"http://etherx.jabber.org/streams\"><x xmlns=\"jabber:client\"/></error></message>");
}

TEST_CASE("stanza declares prefixes of prefixed attributes on the element that uses them")
{
    NamespaceScope scope = client_scope();
    scope.bind("ext", "urn:ext");
    const Stanza s = must_parse("<message ext:a='1' xml:lang='en'><x xmlns:p='urn:p'><y p:b='2'/></x></message>", scope);
    CHECK(s.serialize() ==
          "<message xmlns=\"jabber:client\" ext:a=\"1\" xml:lang=\"en\" xmlns:ext=\"urn:ext\"><x xmlns:p=\"urn:p\">"
          "<y p:b=\"2\" xmlns:p=\"urn:p\"/></x></message>");
    // An inner element serialized alone carries what it needs.
    CHECK(s.root().first_child_element().first_child_element().serialize() ==
          "<y xmlns=\"jabber:client\" p:b=\"2\" xmlns:p=\"urn:p\"/>");
    check_round_trip("<message ext:a='1' xml:lang='en'><x xmlns:p='urn:p'><y p:b='2'/></x></message>", scope);
}

TEST_CASE("stanza accessors: attr, has_attr, lang inheritance, text, text_content")
{
    const Stanza s = must_parse(
        "<message xml:lang='en' to='a&amp;b' empty=''><body>x &lt;3 &#x1F600;<![CDATA[ <y> ]]>z</body>"
        "<subject xml:lang='fr'>s</subject><thread/></message>");
    CHECK(s.attr("to") == "a&b");
    CHECK(s.root().has_attr("empty"));
    CHECK(s.attr("empty").empty());
    CHECK_FALSE(s.root().has_attr("from"));
    CHECK(s.from().empty());
    CHECK(s.lang() == "en");
    const Element body = s.root().child("body", client_ns);
    CHECK(body.lang() == "en");
    CHECK(s.root().child("subject", client_ns).lang() == "fr");
    CHECK(body.text() == "x <3 \xf0\x9f\x98\x80");
    CHECK(body.text_content() == "x <3 \xf0\x9f\x98\x80 <y> z");
    CHECK(s.root().child("thread", client_ns).text().empty());
    CHECK(s.root().child_count() == 3);
    CHECK_FALSE(s.root().child("nothing", client_ns));
    CHECK_FALSE(Element().child("x", ""));
    CHECK(Element().name().empty());
    CHECK(Element().serialize().empty());
}

TEST_CASE("stanza attribute normalization: literal whitespace becomes space, references survive a round trip")
{
    const Stanza s = must_parse("<message a='x\ty\nz' b='1&#9;2&#10;3&#13;4'/>");
    CHECK(s.attr("a") == "x y z");
    CHECK(s.attr("b") == "1\t2\n3\r4");
    check_round_trip("<message a='x\ty\nz' b='1&#9;2&#10;3&#13;4'/>");
    const Stanza again = must_parse(s.serialize());
    CHECK(again.attr("b") == "1\t2\n3\r4");
}

TEST_CASE("stanza mutation: stamp from, swap to/from for a reply, remove an attribute")
{
    Stanza s = must_parse("<iq type='get' id='p1' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>");
    s.set_attr("from", "juliet@example.com/balcony");
    CHECK(s.serialize() ==
          "<iq xmlns=\"jabber:client\" type=\"get\" id=\"p1\" to=\"example.com\" from=\"juliet@example.com/balcony\">"
          "<ping xmlns=\"urn:xmpp:ping\"/></iq>");
    const std::string to(s.to());
    const std::string from(s.from());
    s.set_attr("to", from);
    s.set_attr("from", to);
    s.set_attr("type", "result");
    s.remove_attr("nothing");
    CHECK(s.serialize() ==
          "<iq xmlns=\"jabber:client\" type=\"result\" id=\"p1\" to=\"juliet@example.com/balcony\" from=\"example.com\">"
          "<ping xmlns=\"urn:xmpp:ping\"/></iq>");
    s.remove_attr("id");
    s.set_attr("x", "<\"&'>");
    CHECK(s.serialize() ==
          "<iq xmlns=\"jabber:client\" type=\"result\" to=\"juliet@example.com/balcony\" from=\"example.com\" "
          "x=\"&lt;&quot;&amp;'>\"><ping xmlns=\"urn:xmpp:ping\"/></iq>");
    check_round_trip(s.serialize());
}

TEST_CASE("stanza serialize_to appends and inner elements get their namespace")
{
    const Stanza s = must_parse("<iq type='result' id='1'><query xmlns='jabber:iq:version'><name>tern</name></query></iq>");
    std::string out = "prefix:";
    s.root().child("query", "jabber:iq:version").child("name", "jabber:iq:version").serialize_to(out);
    CHECK(out == "prefix:<name xmlns=\"jabber:iq:version\">tern</name>");
}

TEST_CASE("stanza is movable and owns its tree")
{
    std::vector<Stanza> v;
    for (int i = 0; i < 20; ++i) v.push_back(must_parse("<presence id='" + std::to_string(i) + "'/>"));
    Stanza moved = std::move(v[7]);
    CHECK(moved.id() == "7");
    CHECK(v[19].id() == "19");
}

TEST_CASE("stanza rejects undeclared prefixes, namespace errors and malformed XML")
{
    const auto condition = [](std::string_view bytes) {
        auto r = Stanza::parse(bytes, client_scope());
        return r ? std::string("ok") : std::string(to_string(r.error().condition));
    };
    CHECK(condition("<foo:x/>") == "not-well-formed");
    CHECK(condition("<x foo:a='1'/>") == "not-well-formed");
    CHECK(condition("<x><y xmlns:foo='urn:foo'/><foo:z/></x>") == "not-well-formed");
    CHECK(condition("<xmlns:x/>") == "not-well-formed");
    CHECK(condition("<x xmlns:p=''/>") == "not-well-formed");
    CHECK(condition("<x xmlns:p='urn:u' xmlns:q='urn:u' p:a='1' q:a='2'/>") == "not-well-formed");
    CHECK(condition("<x a:b:c='1'/>") == "not-well-formed");
    CHECK(condition("<x>") == "not-well-formed");
    CHECK(condition("<x/><y/>") == "not-well-formed");
    CHECK(condition("") == "not-well-formed");
    CHECK(condition("text") == "not-well-formed");
    CHECK(condition("<x xmlns:p='urn:u' p:a='1' b='2'/>") == "ok");
}

TEST_CASE("stanza round trip holds for stanzas framed by the tokenizer")
{
    Tokenizer t;
    t.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' xmlns:x='urn:x'>"
           "<message type='chat' to='a@b'><body>&lt;&amp;&gt; \xc3\xa9</body><x:y x:z='1'><w/></x:y></message>"
           "<presence><show>away</show><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/></presence>"
           "<iq type='set' id='j1'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s'>"
           "<content creator='initiator' name='voice'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>"
           "<payload-type id='111' name='opus' clockrate='48000' channels='2'/></description></content></jingle></iq>");
    REQUIRE(t.next().kind == EventKind::StreamOpen);
    int n = 0;
    for (Event e = t.next(); e.kind == EventKind::Stanza; e = t.next()) {
        check_round_trip(e.bytes, t.header().scope());
        ++n;
    }
    CHECK(n == 3);
}
}
