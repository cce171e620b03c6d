#include "xml/tokenizer.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "draft_examples.hpp"

using namespace tern::xml;
using tern::xml::test::client_header;
using tern::xml::test::draft_elements;

namespace {

constexpr std::string_view header = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

// Drains every available event into `out` as "open|bytes", "stanza|bytes", "close|bytes", "error|condition".
// Returns false once an error was seen.
bool drain(Tokenizer& t, std::vector<std::string>& out)
{
    for (;;) {
        const Event e = t.next();
        switch (e.kind) {
        case EventKind::NeedMore: return true;
        case EventKind::StreamOpen: out.push_back("open|" + std::string(e.bytes)); break;
        case EventKind::Stanza: out.push_back("stanza|" + std::string(e.bytes)); break;
        case EventKind::StreamClose: out.push_back("close|" + std::string(e.bytes)); break;
        case EventKind::Error:
            out.push_back("error|" + std::string(to_string(t.error().condition)));
            return false;
        }
    }
}

std::vector<std::string> run(std::string_view input, Limits limits = {})
{
    Tokenizer t(limits);
    std::vector<std::string> out;
    t.feed(input);
    drain(t, out);
    return out;
}

std::vector<std::string> run_split(std::string_view input, std::size_t cut, Limits limits = {})
{
    Tokenizer t(limits);
    std::vector<std::string> out;
    t.feed(input.substr(0, cut));
    if (drain(t, out)) {
        t.feed(input.substr(cut));
        drain(t, out);
    }
    return out;
}

std::vector<std::string> run_bytewise(std::string_view input, Limits limits = {})
{
    Tokenizer t(limits);
    std::vector<std::string> out;
    for (char c : input) {
        t.feed(std::string_view(&c, 1));
        if (!drain(t, out)) break;
    }
    return out;
}

// The same events whatever the chunking.
void check_chunking_invariant(std::string_view input, Limits limits = {})
{
    const std::vector<std::string> whole = run(input, limits);
    for (std::size_t cut = 0; cut <= input.size(); ++cut) {
        INFO("cut at ", cut);
        REQUIRE(run_split(input, cut, limits) == whole);
    }
    CHECK(run_bytewise(input, limits) == whole);
}

std::string last(const std::vector<std::string>& events)
{
    return events.empty() ? std::string() : events.back();
}

// Stream header, then `body`: the last event (the error for rejection tests).
std::string after_header(std::string_view body, Limits limits = {})
{
    return last(run(std::string(header) + std::string(body), limits));
}

std::string stanza(std::string_view s)
{
    return "stanza|" + std::string(s);
}

}  // namespace

TEST_SUITE("xml")
{
TEST_CASE("tokenizer frames the draft's client stream: header, every example element, close")
{
    std::string input(client_header);
    std::vector<std::string> expected{"open|" + std::string(client_header)};
    for (std::string_view e : draft_elements) {
        input += "\n";
        input += e;
        expected.push_back(stanza(e));
    }
    input += "\n</stream:stream>";
    expected.push_back("close|</stream:stream>");
    CHECK(run(input) == expected);
    check_chunking_invariant(input);
}

TEST_CASE("tokenizer exposes the stream header with resolved namespaces")
{
    Tokenizer t;
    t.feed(client_header);
    const Event e = t.next();
    REQUIRE(e.kind == EventKind::StreamOpen);
    const StreamHeader& h = t.header();
    CHECK(h.qname() == "stream:stream");
    CHECK(h.ns() == stream_ns);
    CHECK(h.local_name() == "stream");
    CHECK(h.to() == "example.com");
    CHECK(h.version() == "1.0");
    CHECK(h.from().empty());
    CHECK_FALSE(h.has_attr("from"));
    CHECK(h.attribute_count() == 4);
    CHECK(h.attribute(0).qname == "xmlns");
    CHECK(h.attribute(0).value == "jabber:client");
    CHECK(h.scope().default_ns() == "jabber:client");
    CHECK(h.scope().lookup("stream") == stream_ns);
    CHECK(h.scope().lookup("xml") == xml_ns);
    CHECK_FALSE(h.scope().lookup("db").has_value());
    CHECK(t.next().kind == EventKind::NeedMore);
}

TEST_CASE("tokenizer accepts the draft's s2s dialback header and its prefixed elements")
{
    std::string input(tern::xml::test::s2s_dialback_header);
    std::vector<std::string> expected{"open|" + input};
    for (std::string_view e : tern::xml::test::dialback_elements) {
        input += e;
        expected.push_back(stanza(e));
    }
    CHECK(run(input) == expected);
    Tokenizer t;
    t.feed(tern::xml::test::s2s_dialback_header);
    REQUIRE(t.next().kind == EventKind::StreamOpen);
    CHECK(t.header().scope().lookup("db") == "jabber:server:dialback");
    CHECK(t.header().scope().default_ns() == "jabber:server");
    CHECK(t.header().id() == "457F9224A0...");
}

TEST_CASE("tokenizer unescapes header attribute values and normalizes literal whitespace")
{
    Tokenizer t;
    t.feed("<stream:stream xmlns:stream=\"http://etherx.jabber.org/streams\" to='a&amp;b&#x41;&#66;&lt;&gt;&quot;&apos;' "
           "id=\"x\ty\n\" xml:lang='en'>");
    REQUIRE(t.next().kind == EventKind::StreamOpen);
    CHECK(t.header().to() == "a&bAB<>\"'");
    CHECK(t.header().id() == "x y ");
    CHECK(t.header().lang() == "en");
    CHECK(t.header().scope().default_ns().empty());
}

TEST_CASE("tokenizer yields the same events for every split point and byte by byte")
{
    const std::string input = std::string("<?xml version='1.0' encoding='UTF-8'?>") + std::string(header) +
        "  <message to='juliet@example.com' type=\"chat\" id='a&amp;b'><body>caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
        "&lt;3 &#x1F600; &#233;</body><x xmlns='urn:x' a=\"it's\" b='say \"hi\"'><![CDATA[<raw> ]] > ]]></x></message>\n"
        "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq> \r\n\t"
        "<presence><status>\xe6\x97\xa5\xe6\x9c\xac</status><foo:bar xmlns:foo='urn:foo' foo:a='1'/><\xc3\xa9t\xc3\xa9 \xc3\xa9\xe2\x82\xac='1'></\xc3\xa9t\xc3\xa9></presence>"
        "</stream:stream>";
    const std::vector<std::string> events = run(input);
    REQUIRE(events.size() == 5);
    CHECK(events[0].rfind("open|<?xml", 0) == 0);
    CHECK(events[4] == "close|</stream:stream>");
    check_chunking_invariant(input);
}

TEST_CASE("tokenizer rejections are chunking-invariant too")
{
    check_chunking_invariant(std::string(header) + "<message><body>a &foo; b</body></message>");
    check_chunking_invariant(std::string(header) + "<message><body>\xe2\x82</body></message>");
    check_chunking_invariant(std::string(header) + "<a>" + std::string(200, 'x') + "</a>", Limits{.max_stanza_bytes = 100});
}

TEST_CASE("tokenizer drops whitespace keepalives without buffering them")
{
    Tokenizer t;
    t.feed(header);
    REQUIRE(t.next().kind == EventKind::StreamOpen);
    CHECK(t.next().kind == EventKind::NeedMore);
    for (int i = 0; i < 100; ++i) {
        t.feed(" \n\t\r ");
        CHECK(t.next().kind == EventKind::NeedMore);
    }
    CHECK(t.unconsumed() == 0);
    t.feed("\n\n<presence/>\n");
    const Event e = t.next();
    REQUIRE(e.kind == EventKind::Stanza);
    CHECK(e.bytes == "<presence/>");
    CHECK(t.next().kind == EventKind::NeedMore);
    CHECK(t.unconsumed() == 0);
}

TEST_CASE("tokenizer accepts both quote styles, CDATA, predefined entities and char refs")
{
    const std::string body = "<message a=\"x'y\" b='x\"y' c='&amp;&lt;&gt;&quot;&apos;&#10;&#x10FFFF;'>"
                             "<body>&amp;&lt;&gt;&quot;&apos;&#65;&#x41;&#x000041;<![CDATA[&foo; <!-- x --> ]]]]></body></message>";
    CHECK(after_header(body) == stanza(body));
}

TEST_CASE("tokenizer handles a self-closed stream header as open then close")
{
    const std::string input = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>";
    CHECK(run(input) == std::vector<std::string>{"open|" + input, "close|"});
}

TEST_CASE("tokenizer accepts an encoding declaration naming UTF-8 in any case")
{
    CHECK(last(run(std::string("<?xml version=\"1.0\" encoding=\"utf-8\" standalone='yes' ?>") + std::string(header)))
              .rfind("open|", 0) == 0);
}

TEST_CASE("tokenizer accepts non-ASCII names and rejects non-name characters in names")
{
    CHECK(after_header("<\xc3\xa9l\xc3\xa9ment att\xc2\xb7r='1'/>") == stanza("<\xc3\xa9l\xc3\xa9ment att\xc2\xb7r='1'/>"));
    CHECK(after_header("<a\xc3\x97/>") == "error|not-well-formed");  // U+00D7 is not a NameChar
    CHECK(after_header("<\xc2\xb7/>") == "error|not-well-formed");   // U+00B7 can't start a name
}

// ---- rejections: one test each ----------------------------------------------------------------------

TEST_CASE("tokenizer rejects comments")
{
    CHECK(after_header("<!-- hi -->") == "error|restricted-xml");
    CHECK(after_header("<message><!-- hi --></message>") == "error|restricted-xml");
    CHECK(last(run("<!-- hi -->" + std::string(header))) == "error|restricted-xml");
}

TEST_CASE("tokenizer rejects processing instructions, including a late XML declaration")
{
    CHECK(after_header("<message><?php echo 1; ?></message>") == "error|restricted-xml");
    CHECK(after_header("<?xml version='1.0'?>") == "error|restricted-xml");
    CHECK(last(run("<?xml-stylesheet href='a'?>" + std::string(header))) == "error|restricted-xml");
    CHECK(last(run("<?xml version='1.0'?><?xml version='1.0'?>" + std::string(header))) == "error|restricted-xml");
}

TEST_CASE("tokenizer rejects DOCTYPE and ENTITY declarations")
{
    CHECK(last(run("<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>]>" + std::string(header))) ==
          "error|restricted-xml");
    CHECK(after_header("<message><!ENTITY x 'y'></message>") == "error|restricted-xml");
}

TEST_CASE("tokenizer rejects undefined entity references in text and attributes")
{
    CHECK(after_header("<message><body>&lol2;</body></message>") == "error|restricted-xml");
    CHECK(after_header("<message to='&nbsp;'/>") == "error|restricted-xml");
    CHECK(after_header("<message><body>&amp</body></message>") == "error|not-well-formed");
    CHECK(after_header("<message><body>a & b</body></message>") == "error|not-well-formed");
}

TEST_CASE("tokenizer rejects character references to non-Chars and malformed ones")
{
    for (const char* ref : {"&#0;", "&#1;", "&#x1F;", "&#xD800;", "&#xDFFF;", "&#xFFFE;", "&#xFFFF;", "&#x110000;",
                            "&#99999999999999999999;", "&#;", "&#x;", "&#x12g;", "&#12a;", "&#X41;"}) {
        INFO(ref);
        CHECK(after_header(std::string("<m>") + ref + "</m>") == "error|not-well-formed");
        CHECK(after_header(std::string("<m a='") + ref + "'/>") == "error|not-well-formed");
    }
}

TEST_CASE("tokenizer rejects invalid UTF-8")
{
    for (const char* bad : {"\xff", "\xfe", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\x80",
                            "\xc3\x28", "\xe2\x82\x28", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80"}) {
        INFO(bad);
        CHECK(after_header(std::string("<m>") + bad + "</m>") == "error|not-well-formed");
        CHECK(after_header(std::string("<m a='") + bad + "'/>") == "error|not-well-formed");
        CHECK(after_header(std::string("<m><![CDATA[") + bad + "]]></m>") == "error|not-well-formed");
    }
}

TEST_CASE("tokenizer rejects invalid XML characters: controls, NUL, surrogates, U+FFFE/U+FFFF")
{
    for (std::string bad : {std::string("\x01"), std::string(1, '\0'), std::string("\x1b"), std::string("\x7f\x08"),
                            std::string("\xed\xa0\x80"), std::string("\xed\xbf\xbf"), std::string("\xef\xbf\xbe"),
                            std::string("\xef\xbf\xbf")}) {
        INFO(bad);
        CHECK(after_header("<m>" + bad + "</m>") == "error|not-well-formed");
        CHECK(after_header("<m a='" + bad + "'/>") == "error|not-well-formed");
        CHECK(after_header("<m><![CDATA[" + bad + "]]></m>") == "error|not-well-formed");
    }
    CHECK(last(run(std::string(header).insert(20, 1, '\0'))) == "error|not-well-formed");
}

TEST_CASE("tokenizer rejects '<' in attribute values")
{
    CHECK(after_header("<message to='a<b'/>") == "error|not-well-formed");
    CHECK(after_header("<message to=\"<\"/>") == "error|not-well-formed");
}

TEST_CASE("tokenizer rejects duplicate attributes")
{
    CHECK(after_header("<message to='a' to='b'/>") == "error|not-well-formed");
    CHECK(after_header("<message><x a='1' b='2' a=\"1\"></x></message>") == "error|not-well-formed");
    // Same expanded name through two prefixes bound to one URI (Namespaces in XML §6.3).
    CHECK(after_header("<x xmlns:p='urn:u' xmlns:q='urn:u' p:a='1' q:a='2'/>") == "error|not-well-formed");
    CHECK(after_header("<x xmlns:p='a&amp;' xmlns:q='a&#38;'><y p:a='1' q:a='2'/></x>") == "error|not-well-formed");
    CHECK(after_header("<x xmlns:p='urn:u' xmlns:q='urn:v' p:a='1' q:a='2' a='3'/>").rfind("stanza|", 0) == 0);
    CHECK(last(run("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='a' to='b'>")) ==
          "error|not-well-formed");
}

TEST_CASE("tokenizer rejects mismatched end tags")
{
    CHECK(after_header("<message><body></message></body>") == "error|not-well-formed");
    CHECK(after_header("<message></Message>") == "error|not-well-formed");
    CHECK(after_header("</message>") == "error|not-well-formed");
    CHECK(after_header("</stream:streams>") == "error|not-well-formed");
    CHECK(last(run("</stream:stream>")) == "error|not-well-formed");
}

TEST_CASE("tokenizer rejects bad names and malformed tags")
{
    for (const char* bad : {"<1a/>", "<-a/>", "<.a/>", "<a:b:c/>", "<:a/>", "<a:/>", "<a:1b/>", "< a/>", "<a b/>",
                            "<a b=c/>", "<a b='1'c='2'/>", "<a 1b='x'/>", "<a b:='x'/>", "<a =''/>", "<a/ >",
                            "<a></ a>", "<a></a b>", "<a></a/>", "<xmlns:a xmlns:xmlns='urn:x'/>"}) {
        INFO(bad);
        CHECK(after_header(bad) == "error|not-well-formed");
    }
}

TEST_CASE("tokenizer rejects text at stream level")
{
    CHECK(after_header("hello") == "error|not-well-formed");
    CHECK(after_header("<presence/> x <presence/>") == "error|not-well-formed");
    CHECK(after_header("&amp;") == "error|not-well-formed");
    CHECK(after_header("<![CDATA[ ]]>") == "error|not-well-formed");
    CHECK(last(run("hello" + std::string(header))) == "error|not-well-formed");
}

TEST_CASE("tokenizer rejects ']]>' in character data")
{
    CHECK(after_header("<m>a]]>b</m>") == "error|not-well-formed");
    CHECK(after_header("<m>a]>b ]] > ]]&gt;</m>") == stanza("<m>a]>b ]] > ]]&gt;</m>"));
}

TEST_CASE("tokenizer rejects undeclared namespace prefixes on elements and attributes")
{
    CHECK(after_header("<foo:bar/>") == "error|not-well-formed");
    CHECK(after_header("<message><foo:bar/></message>") == "error|not-well-formed");
    CHECK(after_header("<message foo:a='1'/>") == "error|not-well-formed");
    CHECK(after_header("<message><x xmlns:foo='urn:foo'/><foo:y/></message>") == "error|not-well-formed");
    CHECK(after_header("<xmlns:a/>") == "error|not-well-formed");
    CHECK(after_header("<a xmlns:p=''/>") == "error|not-well-formed");
    CHECK(after_header("<a xmlns:xml='urn:not-xml'/>") == "error|not-well-formed");
    CHECK(after_header("<a xmlns:p='http://www.w3.org/XML/1998/namespace'/>") == "error|not-well-formed");
    // Declared on the element itself (after use), on an ancestor, on the stream, or xml: are fine.
    CHECK(after_header("<foo:bar xmlns:foo='urn:foo' foo:a='1' xml:lang='en'/>").rfind("stanza|", 0) == 0);
    CHECK(after_header("<m xmlns:foo='urn:foo'><x><foo:y foo:a='1'/></x></m>").rfind("stanza|", 0) == 0);
    CHECK(after_header("<stream:features/>") == stanza("<stream:features/>"));
    CHECK(last(run("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' foo:a='1'>")) ==
          "error|not-well-formed");
}

TEST_CASE("tokenizer rejects a stream element outside the streams namespace with invalid-namespace")
{
    CHECK(last(run("<stream:stream xmlns:stream='http://etherx.jabber.org/streamz'>")) == "error|invalid-namespace");
    CHECK(last(run("<stream:stream xmlns='jabber:client'>")) == "error|invalid-namespace");
    CHECK(last(run("<stream xmlns='jabber:client'>")) == "error|invalid-namespace");
    CHECK(last(run("<message xmlns='jabber:client'/>")) == "error|invalid-namespace");
    CHECK(last(run("<stream xmlns='http://etherx.jabber.org/streams'>")).rfind("open|", 0) == 0);
}

TEST_CASE("tokenizer rejects a root in the streams namespace that is not <stream> with bad-format")
{
    CHECK(last(run("<stream:features xmlns:stream='http://etherx.jabber.org/streams'>")) == "error|bad-format");
}

TEST_CASE("tokenizer rejects encodings other than UTF-8")
{
    CHECK(last(run("<?xml version='1.0' encoding='ISO-8859-1'?>" + std::string(header))) == "error|unsupported-encoding");
    CHECK(last(run("<?xml version='1.0' encoding='UTF-16'?>" + std::string(header))) == "error|unsupported-encoding");
}

TEST_CASE("tokenizer rejects malformed XML declarations")
{
    for (const char* decl : {"<?xml?>", "<?xml encoding='UTF-8'?>", "<?xml version='2.0'?>", "<?xml version='1.'?>",
                             "<?xml version='1.0' standalone='maybe'?>", "<?xml version='1.0' foo='bar'?>",
                             "<?xml version=1.0?>", "<?xml version='1.0\xc3\xa9'?>",
                             "<?xml version='1.0' standalone='yes' encoding='UTF-8'?>"}) {
        INFO(decl);
        const std::string r = last(run(decl + std::string(header)));
        CHECK((r == "error|not-well-formed" || r == "error|restricted-xml"));
    }
}

TEST_CASE("tokenizer rejects data after the stream was closed")
{
    CHECK(after_header("</stream:stream> <presence/>") == "error|not-well-formed");
    CHECK(after_header("</stream:stream> \n") == "close|</stream:stream>");
}

TEST_CASE("tokenizer keeps returning Error and ignores later input")
{
    Tokenizer t;
    t.feed(header);
    CHECK(t.next().kind == EventKind::StreamOpen);
    CHECK(t.next().kind == EventKind::NeedMore);
    const std::size_t header_heap = t.heap_bytes();
    t.feed("<a><!-- x --></a>");
    CHECK(t.next().kind == EventKind::Error);
    CHECK(t.error().condition == ErrorCondition::RestrictedXml);
    CHECK_FALSE(t.error().text.empty());
    t.feed("<presence/>");
    CHECK(t.next().kind == EventKind::Error);
    t.restart();
    CHECK(t.next().kind == EventKind::Error);
    CHECK(t.heap_bytes() == header_heap);  // the buffer is released on error; the header stays readable
    CHECK(t.header().to() == "example.com");
}

// ---- limits -----------------------------------------------------------------------------------------

TEST_CASE("tokenizer limit: stanza bytes, exactly at the limit passes")
{
    const std::string s = "<m>" + std::string(93, 'x') + "</m>";  // 100 bytes
    REQUIRE(s.size() == 100);
    const Limits limits{.max_stanza_bytes = 100};
    CHECK(after_header(s, limits) == stanza(s));
    CHECK(after_header("<m>" + std::string(94, 'x') + "</m>", limits) == "error|policy-violation");
    CHECK(after_header("<m a='" + std::string(200, 'x') + "'/>", limits) == "error|policy-violation");
}

TEST_CASE("tokenizer limit: a stanza that never ends is cut at the limit, without buffering more")
{
    Tokenizer t(Limits{.max_stanza_bytes = 1000});
    t.feed(header);
    REQUIRE(t.next().kind == EventKind::StreamOpen);
    REQUIRE(t.next().kind == EventKind::NeedMore);
    const std::size_t header_heap = t.heap_bytes();
    t.feed("<message><body>");
    int fed = 0;
    Event e;
    do {
        t.feed(std::string(10, 'a'));
        fed += 10;
        e = t.next();
        CHECK(t.heap_bytes() - header_heap <= 2 * 1000 + 512);  // the buffer never grows past the limit (+ stacks)
    } while (e.kind == EventKind::NeedMore && fed < 100000);
    CHECK(e.kind == EventKind::Error);
    CHECK(t.error().condition == ErrorCondition::PolicyViolation);
    CHECK(fed <= 1000);
    CHECK(t.heap_bytes() == header_heap);
}

TEST_CASE("tokenizer limit: nesting depth")
{
    const Limits limits{.max_depth = 3};
    CHECK(after_header("<a><b><c/></b></a>", limits) == stanza("<a><b><c/></b></a>"));
    CHECK(after_header("<a><b><c><d/></c></b></a>", limits) == "error|policy-violation");
    std::string deep;
    for (int i = 0; i < 33; ++i) deep += "<a>";
    CHECK(after_header(deep) == "error|policy-violation");  // default 32
}

TEST_CASE("tokenizer limit: attribute count")
{
    const Limits limits{.max_attributes = 4};  // the test header has 4
    CHECK(after_header("<a w='0' x='1' y='2' z='3'/>", limits) == stanza("<a w='0' x='1' y='2' z='3'/>"));
    CHECK(after_header("<a v='' w='0' x='1' y='2' z='3'/>", limits) == "error|policy-violation");
    CHECK(last(run(header, Limits{.max_attributes = 3})) == "error|policy-violation");
    std::string many = "<a";
    for (int i = 0; i < 40; ++i) many += " a" + std::to_string(i) + "='v'";
    many += "/>";
    CHECK(after_header(many) == "error|policy-violation");  // default 32, above the inline capacity
    CHECK(after_header(many, Limits{.max_attributes = 64}) == stanza(many));
}

TEST_CASE("tokenizer limit: name length for element, attribute, end tag and entity names")
{
    const Limits limits{.max_name_bytes = 13};  // "stream:stream"
    const std::string n13 = "abcdefghijklm";
    CHECK(after_header("<" + n13 + " " + n13 + "='1'></" + n13 + ">", limits) == stanza("<" + n13 + " " + n13 + "='1'></" + n13 + ">"));
    CHECK(after_header("<" + n13 + "n/>", limits) == "error|policy-violation");
    CHECK(after_header("<a " + n13 + "n='1'/>", limits) == "error|policy-violation");
    CHECK(after_header("<a></" + n13 + "n>", limits) == "error|policy-violation");
    CHECK(after_header("<a>&" + n13 + "n;</a>", limits) == "error|policy-violation");
    CHECK(after_header("<a>&#0000000000000065;</a>", limits) == "error|policy-violation");
    CHECK(last(run(header, Limits{.max_name_bytes = 12})) == "error|policy-violation");
}

TEST_CASE("tokenizer limit: stream header size")
{
    const Limits limits{.max_header_bytes = 200};
    CHECK(last(run(header, limits)).rfind("open|", 0) == 0);
    CHECK(last(run(std::string(header).insert(14, " x='" + std::string(200, 'y') + "'"), limits)) == "error|policy-violation");
    CHECK(last(run_bytewise("<?xml version='1.0'?>" + std::string(300, ' '), limits)) == "error|policy-violation");
}

TEST_CASE("tokenizer limit: deep nesting beyond the inline stack works when allowed")
{
    std::string deep;
    for (int i = 0; i < 40; ++i) deep += "<a xmlns:p" + std::to_string(i) + "='urn:" + std::to_string(i) + "'>";
    deep += "<p0:x p39:y='1'/>";
    for (int i = 0; i < 40; ++i) deep += "</a>";
    CHECK(after_header(deep, Limits{.max_depth = 64}) == stanza(deep));
    CHECK(after_header(deep) == "error|policy-violation");
}

// ---- restart / unconsumed / memory ------------------------------------------------------------------

TEST_CASE("tokenizer restart keeps unconsumed bytes and reads a new stream header from them")
{
    Tokenizer t;
    t.feed(std::string(header) + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABy</auth>");
    REQUIRE(t.next().kind == EventKind::StreamOpen);
    REQUIRE(t.next().kind == EventKind::Stanza);
    // The client pipelines the restart before the server answered.
    t.feed("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
           "to='example.com' version='1.0' id='second'><iq type='set' id='b'><bi");
    CHECK(t.unconsumed() > 0);
    t.restart();
    CHECK(t.header().attribute_count() == 0);
    Event e = t.next();
    REQUIRE(e.kind == EventKind::StreamOpen);
    CHECK(e.bytes.substr(0, 5) == "<?xml");
    CHECK(t.header().id() == "second");
    CHECK(t.next().kind == EventKind::NeedMore);
    t.feed("nd xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
    e = t.next();
    REQUIRE(e.kind == EventKind::Stanza);
    CHECK(e.bytes == "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
}

TEST_CASE("tokenizer restart allows whitespace before the new header and a new XML declaration")
{
    Tokenizer t;
    t.feed(std::string(header) + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>\n ");
    REQUIRE(t.next().kind == EventKind::StreamOpen);
    REQUIRE(t.next().kind == EventKind::Stanza);
    t.restart();
    t.feed(" \n<?xml version='1.0'?>");
    CHECK(t.next().kind == EventKind::NeedMore);
    t.feed(header);
    CHECK(t.next().kind == EventKind::StreamOpen);
    CHECK(t.header().to() == "example.com");
}

TEST_CASE("tokenizer unconsumed counts bytes injected after <starttls/> but not whitespace")
{
    const std::string starttls = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    {
        Tokenizer t;
        t.feed(std::string(header) + starttls + "<message to='victim@example.com'><body>injected</body></message>");
        REQUIRE(t.next().kind == EventKind::StreamOpen);
        REQUIRE(t.next().kind == EventKind::Stanza);
        CHECK(t.unconsumed() == 64);
    }
    {
        Tokenizer t;
        t.feed(std::string(header) + starttls + "<mess");
        REQUIRE(t.next().kind == EventKind::StreamOpen);
        REQUIRE(t.next().kind == EventKind::Stanza);
        CHECK(t.unconsumed() == 5);
    }
    {
        Tokenizer t;
        t.feed(std::string(header) + starttls + " \r\n ");
        REQUIRE(t.next().kind == EventKind::StreamOpen);
        REQUIRE(t.next().kind == EventKind::Stanza);
        CHECK(t.unconsumed() == 0);
        CHECK(t.next().kind == EventKind::NeedMore);
        CHECK(t.unconsumed() == 0);
    }
}

TEST_CASE("tokenizer holds no buffer when idle, also after a large stanza")
{
    Tokenizer t;
    t.feed(header);
    REQUIRE(t.next().kind == EventKind::StreamOpen);
    CHECK(t.next().kind == EventKind::NeedMore);
    const std::size_t header_heap = t.heap_bytes();
    CHECK(header_heap < 400);
    const std::string big = "<message><body>" + std::string(60000, 'x') + "</body></message>";
    for (std::size_t off = 0; off < big.size(); off += 4096) t.feed(std::string_view(big).substr(off, 4096));
    REQUIRE(t.next().kind == EventKind::Stanza);
    CHECK(t.next().kind == EventKind::NeedMore);
    CHECK(t.heap_bytes() == header_heap);
    t.feed("<presence/><pres");
    CHECK(t.next().kind == EventKind::Stanza);
    CHECK(t.next().kind == EventKind::NeedMore);
    // Inside a stanza: its bytes and the parse stacks (no spill for two elements), released when it ends.
    CHECK(t.heap_bytes() > header_heap);
    CHECK(t.heap_bytes() <= header_heap + 64 + 512);
    t.feed("ence/>");
    CHECK(t.next().kind == EventKind::Stanza);
    CHECK(t.next().kind == EventKind::NeedMore);
    CHECK(t.heap_bytes() == header_heap);
}

TEST_CASE("tokenizer releases the parse stacks of a deep stanza when idle")
{
    Tokenizer t;
    t.feed(header);
    REQUIRE(t.next().kind == EventKind::StreamOpen);
    CHECK(t.next().kind == EventKind::NeedMore);
    const std::size_t header_heap = t.heap_bytes();
    std::string deep;
    for (int i = 0; i < 30; ++i) deep += "<a x='1' xmlns:p" + std::to_string(i) + "='urn:p'>";
    for (int i = 0; i < 30; ++i) deep += "</a>";
    t.feed(deep);
    CHECK(t.next().kind == EventKind::Stanza);
    CHECK(t.next().kind == EventKind::NeedMore);
    CHECK(t.heap_bytes() == header_heap);
    t.feed("<message><body>hi</body></message>");
    CHECK(t.next().kind == EventKind::Stanza);
}

TEST_CASE("tokenizer keeps the header's scope and closing name once its attributes are dropped")
{
    Tokenizer t;
    t.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' xmlns:x='urn:x' "
           "to='example.com' version='1.0' id='an-id-long-enough-to-need-the-heap'>");
    REQUIRE(t.next().kind == EventKind::StreamOpen);
    CHECK(t.next().kind == EventKind::NeedMore);
    const std::size_t full = t.heap_bytes();
    t.drop_header_attributes();
    CHECK(t.heap_bytes() < full);
    CHECK(t.header().attribute_count() == 0);
    CHECK(t.header().to().empty());
    CHECK(t.header().qname() == "stream:stream");
    CHECK(t.header().ns() == stream_ns);
    CHECK(t.header().scope().default_ns() == "jabber:client");
    CHECK(t.header().scope().lookup("x") == "urn:x");
    t.feed("<message><x:y/></message><x:z/>");
    CHECK(t.next().kind == EventKind::Stanza);
    CHECK(t.next().kind == EventKind::Stanza);
    t.feed("<undeclared:a/>");
    CHECK(t.next().kind == EventKind::Error);

    Tokenizer u;
    u.feed(header);
    REQUIRE(u.next().kind == EventKind::StreamOpen);
    u.drop_header_attributes();
    u.feed("</stream:stream>");
    CHECK(u.next().kind == EventKind::StreamClose);

    Tokenizer v;
    v.feed(header);
    REQUIRE(v.next().kind == EventKind::StreamOpen);
    v.drop_header_attributes();
    v.feed("</stream:other>");
    CHECK(v.next().kind == EventKind::Error);
}

TEST_CASE("tokenizer reads a full header again after a restart that follows dropped attributes")
{
    Tokenizer t;
    t.feed(header);
    REQUIRE(t.next().kind == EventKind::StreamOpen);
    t.drop_header_attributes();
    t.restart();
    CHECK(t.header().ns().empty());
    t.feed(header);
    REQUIRE(t.next().kind == EventKind::StreamOpen);
    CHECK(t.header().to() == "example.com");
    CHECK(t.header().ns() == stream_ns);
}

TEST_CASE("tokenizer error conditions have their RFC 6120 names")
{
    CHECK(to_string(ErrorCondition::NotWellFormed) == "not-well-formed");
    CHECK(to_string(ErrorCondition::RestrictedXml) == "restricted-xml");
    CHECK(to_string(ErrorCondition::PolicyViolation) == "policy-violation");
    CHECK(to_string(ErrorCondition::InvalidNamespace) == "invalid-namespace");
    CHECK(to_string(ErrorCondition::BadFormat) == "bad-format");
    CHECK(to_string(ErrorCondition::UnsupportedEncoding) == "unsupported-encoding");
}
}
