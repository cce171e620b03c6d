#include "xml/writer.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace tern::xml;

TEST_SUITE("xml")
{
TEST_CASE("writer escapes text: & < > and carriage return, quotes untouched")
{
    std::string out = "x";
    append_escaped_text(out, "a&b<c>d\"e'f\rg\th\n");
    CHECK(out == "xa&amp;b&lt;c&gt;d\"e'f&#13;g\th\n");
}

TEST_CASE("writer escapes attribute values: both quotes and whitespace as char refs")
{
    std::string out;
    append_escaped_attr(out, "a&b<c>d\"e'f\tg\nh\ri");
    CHECK(out == "a&amp;b&lt;c&gt;d&quot;e&apos;f&#9;g&#10;h&#13;i");
}

TEST_CASE("writer passes UTF-8 and plain text through unchanged")
{
    std::string out;
    append_escaped_text(out, "Wherefore art thou, Romeo? \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    CHECK(out == "Wherefore art thou, Romeo? \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    out.clear();
    append_escaped_attr(out, "");
    CHECK(out.empty());
}

TEST_CASE("writer builds nested elements with self-closing empties")
{
    std::string out;
    Writer w(out);
    w.open("iq").attr("type", "result").attr("id", "b'1").open("bind").attr("xmlns", "urn:ietf:params:xml:ns:xmpp-bind");
    w.leaf("jid", "juliet@example.com/<balcony>");
    w.close().close();
    CHECK(w.depth() == 0);
    CHECK(out == "<iq type='result' id='b&apos;1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                 "<jid>juliet@example.com/&lt;balcony&gt;</jid></bind></iq>");
}

TEST_CASE("writer leaf without text and empty text are self-closing")
{
    std::string out;
    Writer w(out);
    w.leaf("ping").open("a").text("").close();
    CHECK(out == "<ping/><a/>");
}

TEST_CASE("writer raw inserts serialized XML verbatim inside the open element")
{
    std::string out;
    Writer w(out);
    w.open("message").attr("to", "a@b").raw("<body>hi &amp; bye</body>").close();
    CHECK(out == "<message to='a@b'><body>hi &amp; bye</body></message>");
}

TEST_CASE("writer keeps the open-name stack past the inline capacity")
{
    std::string out;
    Writer w(out);
    for (int i = 0; i < 12; ++i) w.open("e" + std::to_string(i));
    w.text("x");
    CHECK(w.depth() == 12);
    w.close_all();
    std::string expected;
    for (int i = 0; i < 12; ++i) expected += "<e" + std::to_string(i) + ">";
    expected += "x";
    for (int i = 11; i >= 0; --i) expected += "</e" + std::to_string(i) + ">";
    CHECK(out == expected);
}

TEST_CASE("writer appends after existing content and survives reallocation of out")
{
    std::string out(1000, 'z');
    Writer w(out);
    w.open("outer");
    w.text(std::string(100000, 'a'));
    w.close();
    CHECK(out.size() == 1000 + 7 + 100000 + 8);
    CHECK(out.substr(out.size() - 8) == "</outer>");
}

TEST_CASE("writer stream header and close")
{
    std::string out;
    append_stream_header(out, "jabber:client",
                         {{"from", "im.example.com"}, {"id", "++TR84Sm6A3hnt3Q065SnAbbk3Y="},
                          {"version", "1.0"}, {"xml:lang", "en"}});
    CHECK(out == "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams' from='im.example.com' "
                 "id='++TR84Sm6A3hnt3Q065SnAbbk3Y=' version='1.0' xml:lang='en'>");
    out.clear();
    append_stream_close(out);
    CHECK(out == "</stream:stream>");
}
}
