#include "xmpp/stringprep.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>

using tern::xmpp::PrepProfile;
using tern::xmpp::saslprep;
using tern::xmpp::stringprep;
namespace detail = tern::xmpp::detail;

namespace {

constexpr PrepProfile all_profiles[] = {PrepProfile::Nodeprep, PrepProfile::Resourceprep, PrepProfile::Nameprep,
                                        PrepProfile::Saslprep};

void check_same_as_libidn(PrepProfile profile, const std::string& input)
{
    const auto fast = stringprep(profile, input);
    const auto reference = detail::stringprep_libidn(profile, input);
    CAPTURE(static_cast<int>(profile));
    CAPTURE(input);
    REQUIRE(fast.has_value() == reference.has_value());
    if (fast) REQUIRE(*fast == *reference);
}

}  // namespace

TEST_SUITE("xmpp")
{
TEST_CASE("saslprep follows the RFC 4013 section 3 examples")
{
    CHECK(saslprep("I\xC2\xADX") == "IX");       // SOFT HYPHEN mapped to nothing
    CHECK(saslprep("user") == "user");
    CHECK(saslprep("USER") == "USER");           // case preserved
    CHECK(saslprep("\xC2\xAA") == "a");          // NFKC
    CHECK(saslprep("\xE2\x85\xA8") == "IX");     // NFKC
    CHECK_FALSE(saslprep("\x07"));               // prohibited control
    CHECK_FALSE(saslprep("\xD8\xA7" "1"));       // bidi: RAL first but not last
}

TEST_CASE("saslprep maps non-ASCII space to space and keeps ASCII punctuation")
{
    CHECK(saslprep("pass\xC2\xA0word") == "pass word");
    CHECK(saslprep("p@ss:w/rd \"'&<>") == "p@ss:w/rd \"'&<>");
    CHECK(saslprep("") == "");
    CHECK_FALSE(saslprep("a\x7F"));
    CHECK_FALSE(saslprep(std::string("a\0b", 3)));
    CHECK_FALSE(saslprep("\xC8\xA1"));           // unassigned in Unicode 3.2
    CHECK_FALSE(saslprep("\xEE\x80\x80"));       // private use
    CHECK_FALSE(saslprep("\xC3"));               // truncated UTF-8
}

TEST_CASE("stringprep profiles differ on ASCII as RFC 6122 and RFC 3491 say")
{
    CHECK(stringprep(PrepProfile::Nodeprep, "Ab-C.d") == "ab-c.d");
    CHECK(stringprep(PrepProfile::Resourceprep, "Ab C/@:") == "Ab C/@:");
    CHECK(stringprep(PrepProfile::Nameprep, "Ab_C d") == "ab_c d");  // STD3 rules are the caller's job
    CHECK(stringprep(PrepProfile::Nameprep, "a\x01") == "a\x01");
    CHECK_FALSE(stringprep(PrepProfile::Nodeprep, "a b"));
    CHECK_FALSE(stringprep(PrepProfile::Resourceprep, "a\tb"));
    for (PrepProfile p : all_profiles) CHECK_FALSE(stringprep(p, std::string("a\0b", 3)));
}

TEST_CASE("stringprep through libidn for non-ASCII input")
{
    CHECK(stringprep(PrepProfile::Nodeprep, "JULIËT") == "juliët");
    CHECK(stringprep(PrepProfile::Nodeprep, "ﬀ") == "ff");
    CHECK(stringprep(PrepProfile::Resourceprep, "Balcony Ⅸ") == "Balcony IX");
    CHECK(stringprep(PrepProfile::Nameprep, "EXAMPLE.Çom") == "example.çom");
    CHECK_FALSE(stringprep(PrepProfile::Nodeprep, "ju\xEF\xBC\xA0liet"));  // FULLWIDTH @ → '@'
}

TEST_CASE("stringprep ASCII fast path equals libidn on every one- and two-character string")
{
    for (PrepProfile p : all_profiles) {
        check_same_as_libidn(p, "");
        for (int a = 0; a < 128; ++a) {
            check_same_as_libidn(p, std::string(1, static_cast<char>(a)));
            for (int b = 0; b < 128; ++b)
                check_same_as_libidn(p, std::string{static_cast<char>(a), static_cast<char>(b)});
        }
    }
}

TEST_CASE("stringprep ASCII fast path equals libidn on random ASCII strings")
{
    std::mt19937 rng(20240601);
    std::uniform_int_distribution<int> length(0, 40);
    // Mostly printable characters so that many strings pass every profile, with some controls mixed in.
    std::uniform_int_distribution<int> printable(0x20, 0x7E);
    std::uniform_int_distribution<int> any(0x00, 0x7F);
    std::uniform_int_distribution<int> pick(0, 15);
    for (int i = 0; i < 20000; ++i) {
        std::string s(static_cast<std::size_t>(length(rng)), 'x');
        for (char& c : s) c = static_cast<char>(pick(rng) == 0 ? any(rng) : printable(rng));
        for (PrepProfile p : all_profiles) check_same_as_libidn(p, s);
    }
}

TEST_CASE("utf8 validation rejects overlongs, surrogates, out-of-range and truncated sequences")
{
    using tern::xmpp::is_valid_utf8;
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain"));
    CHECK(is_valid_utf8("\xC2\x80\xDF\xBF"));
    CHECK(is_valid_utf8("\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"));
    CHECK(is_valid_utf8("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"));
    CHECK_FALSE(is_valid_utf8("\x80"));
    CHECK_FALSE(is_valid_utf8("\xC0\xAF"));
    CHECK_FALSE(is_valid_utf8("\xC1\xBF"));
    CHECK_FALSE(is_valid_utf8("\xE0\x9F\xBF"));
    CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));
    CHECK_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));
    CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));
    CHECK_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
    CHECK_FALSE(is_valid_utf8("\xFF"));
    CHECK_FALSE(is_valid_utf8("\xE2\x82"));
    CHECK_FALSE(is_valid_utf8("\xE2\x82z"));
    CHECK_FALSE(is_valid_utf8("\xC3\x28"));
}
}
