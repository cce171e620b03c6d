// TURN REST credentials (draft-uberti-behave-turn-rest) as coturn's use-auth-secret checks them.
#include <doctest/doctest.h>

#include "crypto/crypto.hpp"
#include "modules/turn_rest.hpp"

using namespace tern;
using namespace tern::modules;
using namespace std::chrono_literals;

namespace {

std::chrono::system_clock::time_point at(long long unix_seconds)
{
    return std::chrono::system_clock::time_point{std::chrono::seconds{unix_seconds}};
}

}  // namespace

TEST_SUITE("modules")
{
    TEST_CASE("turn_rest password is base64 of HMAC-SHA1 (RFC 2202 test case 2)")
    {
        // HMAC-SHA1("Jefe", "what do ya want for nothing?") = effcdf6ae5eb2fa2d27416d5f184df9c259a7c79
        CHECK(turn_rest_password("Jefe", "what do ya want for nothing?") == "7/zfauXrL6LSdBbV8YTfnCWafHk=");
        CHECK(*crypto::base64_decode(turn_rest_password("Jefe", "what do ya want for nothing?")) ==
              std::string("\xef\xfc\xdf\x6a\xe5\xeb\x2f\xa2\xd2\x74\x16\xd5\xf1\x84\xdf\x9c\x25\x9a\x7c\x79", 20));
    }

    TEST_CASE("turn_rest username is the unix expiry, the separator and the id")
    {
        // Values checked against Python's hmac module: base64(hmac.new(b"S", b"1700086400:alice@example.org", sha1)).
        const TurnCredentials c = turn_rest_credentials("S", "alice@example.org", at(1700000000), 86400s);
        CHECK(c.username == "1700086400:alice@example.org");
        CHECK(c.password == "Ezmh5osBE/1OxHzUUZxfOWUZn0o=");
        CHECK(c.expires == at(1700086400));

        const TurnCredentials dash = turn_rest_credentials("north", "bob@localhost", at(1700000000), 600s, '-');
        CHECK(dash.username == "1700000600-bob@localhost");
        CHECK(dash.password == "9hdJ9vebWOx0yetnWG6XAKzxQ/o=");
    }

    TEST_CASE("turn_rest expiry counts whole seconds from now")
    {
        const auto now = at(1700000000) + 999ms;
        const TurnCredentials c = turn_rest_credentials("S", "alice@example.org", now, 86400s);
        CHECK(c.username == "1700086400:alice@example.org");
        CHECK(c.expires == at(1700086400));
        CHECK(turn_rest_credentials("S", "x", at(1700000001), 600s).username == "1700000601:x");
    }

    TEST_CASE("turn_rest credentials differ by secret and by id, and verify with the password function")
    {
        const auto a = turn_rest_credentials("one", "alice@example.org", at(1700000000), 3600s);
        const auto b = turn_rest_credentials("two", "alice@example.org", at(1700000000), 3600s);
        const auto c = turn_rest_credentials("one", "bob@example.org", at(1700000000), 3600s);
        CHECK(a.username == b.username);
        CHECK(a.password != b.password);
        CHECK(a.password != c.password);
        CHECK(turn_rest_password("one", a.username) == a.password);
        CHECK(turn_rest_password("one", a.username + "x") != a.password);
    }

    TEST_CASE("turn_rest pseudonym is a stable keyed hash of the bare JID")
    {
        // hmac.new(b"S", b"alice@example.org", sha256).hexdigest()[:32]
        CHECK(turn_pseudonym("S", "alice@example.org") == "d889f238b24e423ea2bc976db1848bd8");
        CHECK(turn_pseudonym("S", "alice@example.org") == turn_pseudonym("S", "alice@example.org"));
        CHECK(turn_pseudonym("S", "bob@example.org") != turn_pseudonym("S", "alice@example.org"));
        CHECK(turn_pseudonym("T", "alice@example.org") != turn_pseudonym("S", "alice@example.org"));
        CHECK(turn_pseudonym("S", "alice@example.org").find("alice") == std::string::npos);
    }

    TEST_CASE("turn_rest XEP-0082 date-times are UTC with a Z")
    {
        CHECK(xep0082_datetime(at(0)) == "1970-01-01T00:00:00Z");
        CHECK(xep0082_datetime(at(1700086400)) == "2023-11-15T22:13:20Z");
        CHECK(xep0082_datetime(at(951782400)) == "2000-02-29T00:00:00Z");
        CHECK(xep0082_datetime(at(4102444799) + 999ms) == "2099-12-31T23:59:59Z");
    }
}
