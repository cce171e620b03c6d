#include "xmpp/jid.hpp"

#include <doctest/doctest.h>

#include <string>
#include <unordered_set>

using tern::xmpp::Jid;
using tern::xmpp::JidError;

namespace {

Jid parsed(std::string_view text)
{
    auto jid = Jid::parse(text);
    REQUIRE_MESSAGE(jid.has_value(), "parse failed: ", std::string(text));
    return *jid;
}

JidError parse_error(std::string_view text)
{
    auto jid = Jid::parse(text);
    REQUIRE_MESSAGE(!jid.has_value(), "parse unexpectedly succeeded: ", std::string(text));
    return jid.error();
}

// A name of exactly `bytes` bytes with valid labels: 62-byte labels of 'a', then a shorter last one.
std::string domain_of_size(std::size_t bytes)
{
    std::string out;
    while (bytes - out.size() > 62) out.append(62, 'a') += '.';
    out.append(bytes - out.size(), 'b');
    return out;
}

}  // namespace

TEST_SUITE("xmpp")
{
TEST_CASE("jid parses the three parts")
{
    const Jid j = parsed("juliet@example.com/balcony");
    CHECK(j.local() == "juliet");
    CHECK(j.domain() == "example.com");
    CHECK(j.resource() == "balcony");
    CHECK(j.str() == "juliet@example.com/balcony");
    CHECK(j.bare_str() == "juliet@example.com");
    CHECK_FALSE(j.empty());
    CHECK_FALSE(j.is_bare());
    CHECK_FALSE(j.is_domain());
}

TEST_CASE("jid accepts RFC 7622 section 3.5 examples that stringprep also accepts")
{
    CHECK(parsed("juliet@example.com").str() == "juliet@example.com");
    CHECK(parsed("juliet@example.com/foo").resource() == "foo");
    CHECK(parsed("juliet@example.com/foo bar").resource() == "foo bar");
    CHECK(parsed("juliet@example.com/foo@bar").resource() == "foo@bar");
    CHECK(parsed("foo\\20bar@example.com").local() == "foo\\20bar");
    CHECK(parsed("fussball@example.com").local() == "fussball");
    CHECK(parsed("π@example.com").local() == "π");
    CHECK(parsed("σ@example.com/foo").local() == "σ");
    CHECK(parsed("king@example.com/♚").resource() == "♚");
    const Jid domain_only = parsed("example.com");
    CHECK(domain_only.is_domain());
    CHECK(domain_only.is_bare());
    CHECK(domain_only.local().empty());
    CHECK(parsed("example.com/foobar").resource() == "foobar");
    const Jid tricky = parsed("a.example.com/b@example.net");
    CHECK(tricky.local().empty());
    CHECK(tricky.domain() == "a.example.com");
    CHECK(tricky.resource() == "b@example.net");
}

TEST_CASE("jid applies stringprep mappings where they differ from PRECIS")
{
    // nodeprep case-folds sharp s and final sigma and applies NFKC to compatibility characters.
    CHECK(parsed("fußball@example.com").local() == "fussball");
    CHECK(parsed("Σ@example.com/foo").local() == "σ");
    CHECK(parsed("ς@example.com/foo").local() == "σ");
    CHECK(parsed("henryⅣ@example.com").local() == "henryiv");
    CHECK(parsed("♚@example.com").local() == "♚");
}

TEST_CASE("jid folds case in localpart and domainpart but preserves it in the resourcepart")
{
    const Jid j = parsed("JULIËT@EXAMPLE.Com/Balcony");
    CHECK(j.local() == "juliët");
    CHECK(j.domain() == "example.com");
    CHECK(j.resource() == "Balcony");
    CHECK(parsed("MÜLLER.de").domain() == "müller.de");
    CHECK(j == parsed("juliët@example.com/Balcony"));
    CHECK(j != parsed("juliët@example.com/balcony"));
}

TEST_CASE("jid normalizes the resourcepart with NFKC")
{
    CHECK(parsed("juliet@example.com/Balcony Ⅸ").resource() == "Balcony IX");
    CHECK(parsed("juliet@example.com/ﬀ").resource() == "ff");
}

TEST_CASE("jid removes characters mapped to nothing")
{
    CHECK(parsed("ju\u200Bliet@example.com").local() == "juliet");
    CHECK(parsed("jul\xC2\xADiet@exam\xC2\xADple.com/r\u200Bes").str() == "juliet@example.com/res");
    CHECK(parse_error("\u200B@example.com") == JidError::EmptyLocal);
    CHECK(parse_error("juliet@example.com/\u200B") == JidError::EmptyResource);
    CHECK(parse_error("\xC2\xAD") == JidError::Empty);
}

TEST_CASE("jid rejects each character nodeprep prohibits in the localpart")
{
    for (std::string_view bad : {"\"", "&", "'", ":", "<", ">", " "}) {
        CAPTURE(bad);
        CHECK(parse_error(std::string("ju") + std::string(bad) + "liet@example.com") == JidError::InvalidLocal);
    }
    // '/' and '@' cannot reach the localpart through parse(); they are prohibited in make() and prep_local().
    for (std::string_view bad : {"\"", "&", "'", "/", ":", "<", ">", "@", " "}) {
        CAPTURE(bad);
        CHECK(Jid::prep_local(std::string("a") + std::string(bad)).error() == JidError::InvalidLocal);
        CHECK(Jid::make(std::string("a") + std::string(bad), "example.com").error() == JidError::InvalidLocal);
    }
    // Full-width forms become prohibited ASCII under NFKC.
    CHECK(parse_error("a\xEF\xBC\xA0" "b@example.com") == JidError::InvalidLocal);  // U+FF20 FULLWIDTH @
    CHECK(parse_error("a\xEF\xBC\x8F" "b@example.com") == JidError::InvalidLocal);  // U+FF0F FULLWIDTH /
}

TEST_CASE("jid rejects control, non-ASCII space and other prohibited code points")
{
    CHECK(parse_error("ju\x01liet@example.com") == JidError::InvalidLocal);
    CHECK(parse_error("ju\x7Fliet@example.com") == JidError::InvalidLocal);
    CHECK(parse_error("ju\xC2\xA0liet@example.com") == JidError::InvalidLocal);          // U+00A0
    CHECK(parse_error("juliet@example.com/a\x09" "b") == JidError::InvalidResource);
    CHECK(parse_error("juliet@example.com/a\xE1\x9A\x80" "b") == JidError::InvalidResource);  // U+1680
    CHECK(parse_error("juliet@example.com/a\xE2\x80\xA8" "b") == JidError::InvalidResource);  // U+2028
    CHECK(parsed("juliet@example.com/a\xC2\xA0" "b").resource() == "a b");  // NFKC turns U+00A0 into a space
    CHECK(parse_error("juliet@example.com/a\xEE\x80\x80") == JidError::InvalidResource);  // private use
    CHECK(parse_error("juliet@exa\xC2\xA0mple.com") == JidError::InvalidDomain);
}

TEST_CASE("jid rejects embedded NUL in every part")
{
    using namespace std::string_view_literals;
    CHECK(parse_error("ju\0liet@example.com"sv) == JidError::InvalidLocal);
    CHECK(parse_error("juliet@exa\0mple.com"sv) == JidError::InvalidDomain);
    CHECK(parse_error("juliet@example.com/a\0b"sv) == JidError::InvalidResource);
    CHECK(parse_error("jü\0liet@example.com"sv) == JidError::InvalidLocal);
}

TEST_CASE("jid rejects unassigned code points and bidi violations")
{
    CHECK(parse_error("\xC8\xA1@example.com") == JidError::InvalidLocal);  // U+0221, unassigned in Unicode 3.2
    CHECK(parse_error("juliet@example.com/\xC8\xA1") == JidError::InvalidResource);
    CHECK(parse_error("\xD7\x90" "a@example.com") == JidError::InvalidLocal);  // RAL and L mixed
    CHECK(parse_error("\xD8\xA7" "1@example.com") == JidError::InvalidLocal);  // RAL not last
    CHECK(parsed("\xD7\x90\xD7\x91@example.com").local() == "\xD7\x90\xD7\x91");
}

TEST_CASE("jid rejects invalid UTF-8 in every part")
{
    CHECK(parse_error("\xFF@example.com") == JidError::InvalidLocal);
    CHECK(parse_error("juliet@\xC3\x28.com") == JidError::InvalidDomain);
    CHECK(parse_error("juliet@example.com/r\xED\xA0\x80") == JidError::InvalidResource);  // surrogate
    CHECK(parse_error("\xC0\xAF@example.com") == JidError::InvalidLocal);                 // overlong '/'
    CHECK(parse_error("juliet@example.com/\xF4\x90\x80\x80") == JidError::InvalidResource);  // > U+10FFFF
    CHECK(parse_error("juliet@example.com/\xE2\x82") == JidError::InvalidResource);          // truncated
}

TEST_CASE("jid reports empty parts")
{
    CHECK(parse_error("") == JidError::Empty);
    CHECK(parse_error("@example.com") == JidError::EmptyLocal);
    CHECK(parse_error("example.com/") == JidError::EmptyResource);
    CHECK(parse_error("juliet@example.com/") == JidError::EmptyResource);
    CHECK(parse_error("juliet@") == JidError::Empty);
    CHECK(parse_error("juliet@/balcony") == JidError::Empty);
    CHECK(parse_error("/balcony") == JidError::Empty);
    CHECK(parse_error("@") == JidError::Empty);
    CHECK(parse_error("/") == JidError::Empty);
    CHECK(parse_error("@/") == JidError::Empty);
    CHECK(Jid::make("juliet", "").error() == JidError::Empty);
    CHECK(Jid::prep_local("").error() == JidError::EmptyLocal);
    CHECK(Jid::prep_resource("").error() == JidError::EmptyResource);
    CHECK(Jid::prep_domain("").error() == JidError::Empty);
}

TEST_CASE("jid splits at the first slash, then at the first at-sign before it")
{
    const Jid j = parsed("a@b/c@d/e");
    CHECK(j.local() == "a");
    CHECK(j.domain() == "b");
    CHECK(j.resource() == "c@d/e");
    CHECK(parse_error("a@b@c") == JidError::InvalidDomain);
    const Jid k = parsed("b/c/d");
    CHECK(k.local().empty());
    CHECK(k.resource() == "c/d");
    CHECK(parsed("example.com//").resource() == "/");
}

TEST_CASE("jid limits each part to 1023 bytes after preparation")
{
    const std::string l1023(1023, 'a');
    const std::string l1024(1024, 'a');
    CHECK(parsed(l1023 + "@example.com").local().size() == 1023);
    CHECK(parse_error(l1024 + "@example.com") == JidError::LocalTooLong);
    CHECK(parsed("example.com/" + l1023).resource().size() == 1023);
    CHECK(parse_error("example.com/" + l1024) == JidError::ResourceTooLong);
    const std::string d1023 = domain_of_size(1023);
    REQUIRE(d1023.size() == 1023);
    CHECK(parsed("a@" + d1023).domain() == d1023);
    CHECK(parse_error("a@" + domain_of_size(1024)) == JidError::DomainTooLong);
    // The trailing dot is not counted.
    CHECK(parsed(d1023 + ".").domain() == d1023);

    // The limit applies to the prepared form: upper case folded to the same size, ignorables removed.
    CHECK(parsed(std::string(1023, 'A') + "@example.com").local() == l1023);
    std::string shrinking = l1023;
    for (int i = 0; i < 10; ++i) shrinking += "\u200B";
    CHECK(parsed(shrinking + "@example.com").local() == l1023);
    // 32 × U+FDFA is 96 bytes of input but 1056 bytes after NFKC.
    std::string expanding;
    for (int i = 0; i < 32; ++i) expanding += "\xEF\xB7\xBA";
    CHECK(parse_error("example.com/" + expanding) == JidError::ResourceTooLong);
    // Input far beyond the limit is refused before preparation.
    std::string huge_ignorable;
    for (int i = 0; i < 2000; ++i) huge_ignorable += "\u200B";
    CHECK(parse_error("a" + huge_ignorable + "@example.com") == JidError::LocalTooLong);
}

TEST_CASE("jid accepts IPv4 literals and rejects malformed dotted numbers")
{
    CHECK(parsed("juliet@192.0.2.1/balcony").domain() == "192.0.2.1");
    CHECK(parsed("192.0.2.1.").domain() == "192.0.2.1");
    CHECK(parse_error("1.2.3.256") == JidError::InvalidDomain);
    CHECK(parse_error("01.2.3.4") == JidError::InvalidDomain);
    CHECK(parse_error("1.2.3") == JidError::InvalidDomain);
    CHECK(parse_error("1..2.3") == JidError::InvalidDomain);
    CHECK(parse_error("123") == JidError::InvalidDomain);
    CHECK(parsed("1.2.3.example").domain() == "1.2.3.example");
}

TEST_CASE("jid accepts bracketed IPv6 literals in canonical form")
{
    const Jid j = parsed("juliet@[2001:DB8:0:0:0:0:0:1]/balcony");
    CHECK(j.domain() == "[2001:db8::1]");
    CHECK(j == parsed("juliet@[2001:db8::1]/balcony"));
    CHECK(parsed("[::1]").domain() == "[::1]");
    CHECK(parsed("[::ffff:192.0.2.1]").domain() == "[::ffff:192.0.2.1]");
    CHECK(parse_error("[::1") == JidError::InvalidDomain);
    CHECK(parse_error("[]") == JidError::InvalidDomain);
    CHECK(parse_error("[") == JidError::InvalidDomain);
    CHECK(parse_error("[1.2.3.4]") == JidError::InvalidDomain);
    CHECK(parse_error("[fe80::1%eth0]") == JidError::InvalidDomain);
    CHECK(parse_error("[::1].") == JidError::InvalidDomain);
    CHECK(parse_error("[::g]") == JidError::InvalidDomain);
    CHECK(parse_error("[" + std::string(100, '1') + "]") == JidError::InvalidDomain);
    CHECK(parse_error("::1") == JidError::InvalidDomain);
}

TEST_CASE("jid strips one trailing dot from the domainpart")
{
    CHECK(parsed("juliet@example.com./r") == parsed("juliet@example.com/r"));
    CHECK(parse_error("example.com..") == JidError::InvalidDomain);
    CHECK(parse_error(".") == JidError::Empty);
    CHECK(parse_error("juliet@./r") == JidError::Empty);
}

TEST_CASE("jid treats IDNA label separators as dots")
{
    CHECK(parsed("example\xE3\x80\x82" "com").domain() == "example.com");  // U+3002
    CHECK(parsed("example\xEF\xBD\xA1" "com").domain() == "example.com");  // U+FF61
    CHECK(parsed("ｅｘａｍｐｌｅ．ｃｏｍ").domain() == "example.com");
    CHECK(parsed("example.com\xE3\x80\x82").domain() == "example.com");
}

TEST_CASE("jid applies host name rules to domain labels")
{
    CHECK(parsed("my-host.example.com").domain() == "my-host.example.com");
    CHECK(parse_error("my_host.example.com") == JidError::InvalidDomain);
    CHECK(parse_error("-host.example.com") == JidError::InvalidDomain);
    CHECK(parse_error("host-.example.com") == JidError::InvalidDomain);
    CHECK(parse_error("ex ample.com") == JidError::InvalidDomain);
    CHECK(parse_error("a..b") == JidError::InvalidDomain);
    CHECK(parse_error(".example.com") == JidError::InvalidDomain);
    CHECK(parse_error("exa\x01mple.com") == JidError::InvalidDomain);
    CHECK(parse_error("example.com:5222") == JidError::InvalidDomain);
    CHECK(parse_error("exa!mple.com") == JidError::InvalidDomain);
    CHECK(parsed(std::string(63, 'x') + ".com").domain().size() == 67);
    CHECK(parse_error(std::string(64, 'x') + ".com") == JidError::InvalidDomain);
    // 'ü' is two bytes: 32 of them make a 64-byte label, 31 a 62-byte one.
    std::string label;
    for (int i = 0; i < 32; ++i) label += "ü";
    CHECK(parse_error(label + ".de") == JidError::InvalidDomain);
    CHECK(parsed(label.substr(2) + ".de").domain() == label.substr(2) + ".de");
}

TEST_CASE("jid make prepares each part and treats empty local or resource as absent")
{
    const Jid j = *Jid::make("Juliet", "Example.COM", "Balcony");
    CHECK(j.str() == "juliet@example.com/Balcony");
    CHECK(Jid::make("", "example.com")->is_domain());
    CHECK(Jid::make("juliet", "example.com", "")->is_bare());
    CHECK(Jid::make("juliet", "example.com", "a/b@c")->resource() == "a/b@c");
    CHECK(Jid::make("juliet", "exa mple.com").error() == JidError::InvalidDomain);
    CHECK(Jid::make("juliet", "example.com", "\x01").error() == JidError::InvalidResource);
    CHECK(*Jid::prep_domain("EXAMPLE.Com.") == "example.com");
    CHECK(*Jid::prep_resource("Balcony Ⅸ") == "Balcony IX");
    CHECK(*Jid::prep_local("JULIËT") == "juliët");
}

TEST_CASE("jid bare, with_resource, str and equality")
{
    const Jid full = parsed("juliet@example.com/balcony");
    const Jid bare = full.bare();
    CHECK(bare.is_bare());
    CHECK(bare.str() == "juliet@example.com");
    CHECK(bare == parsed("juliet@example.com"));
    CHECK(bare != full);
    CHECK(bare.with_resource("balcony") == full);
    CHECK(full.with_resource("chamber").str() == "juliet@example.com/chamber");
    CHECK(parsed("example.com/r").bare().str() == "example.com");
    CHECK(parsed("example.com/r").bare_str() == "example.com");
    CHECK(parsed("juliet@example.com") != parsed("example.com"));
    CHECK(parsed("a@b.c") != parsed("b.c/a"));
    const Jid none;
    CHECK(none.empty());
    CHECK(none.str().empty());
}

TEST_CASE("jid hash agrees with equality and separates the parts")
{
    const std::hash<Jid> h;
    CHECK(h(parsed("JULIET@Example.com/r")) == h(parsed("juliet@example.com/r")));
    std::unordered_set<Jid> set;
    set.insert(parsed("juliet@example.com/r"));
    set.insert(parsed("Juliet@EXAMPLE.com/r"));
    set.insert(parsed("juliet@example.com"));
    set.insert(parsed("example.com/juliet"));
    set.insert(parsed("r@juliet.example.com"));
    CHECK(set.size() == 4);
    CHECK(set.count(parsed("juliet@example.com.")) == 1);
    CHECK(h(parsed("a@b.c")) != h(parsed("b.c/a")));
}

TEST_CASE("jid str re-parses to the same jid")
{
    for (std::string_view text : {"JULIËT@EXAMPLE.Com/Balcony Ⅸ", "a@b/c@d/e", "[2001:DB8::1]/x", "192.0.2.1",
                                  "ｅｘａｍｐｌｅ．ｃｏｍ", "fußball@example.com./ﬀ"}) {
        CAPTURE(text);
        const Jid j = parsed(text);
        CHECK(parsed(j.str()) == j);
    }
}

TEST_CASE("jid error strings are distinct")
{
    std::unordered_set<std::string_view> seen;
    for (JidError e : {JidError::Empty, JidError::LocalTooLong, JidError::DomainTooLong, JidError::ResourceTooLong,
                       JidError::EmptyLocal, JidError::EmptyResource, JidError::InvalidLocal,
                       JidError::InvalidDomain, JidError::InvalidResource})
        CHECK(seen.insert(tern::xmpp::to_string(e)).second);
}
}
