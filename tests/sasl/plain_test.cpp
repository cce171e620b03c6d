#include "sasl/plain.hpp"

#include "support.hpp"

#include <doctest/doctest.h>

#include <chrono>

using namespace tern;
using namespace tern::sasl;
using namespace tern::sasl::test;
using crypto::Hash;
using xmpp::SaslFailure;
using Kind = Step::Kind;
using namespace std::string_literals;

namespace {

struct Fixture {
    Accounts accounts;
    ServerContext ctx;

    Fixture()
    {
        accounts.add("user", Hash::Sha256, "pencil", "salt", 32);
        accounts.add("user", Hash::Sha1, "other-password", "salt", 32);  // SHA-256 keys take precedence
        accounts.add("old", Hash::Sha1, "pencil", "salt1", 32);
        accounts.add("I X", Hash::Sha256, "I X", "salt", 32);
        ctx = accounts.context(true);
        ctx.unknown_user_iterations = 32;
    }

    std::unique_ptr<Mechanism> make()
    {
        auto m = make_mechanism("PLAIN", ctx);
        REQUIRE(m != nullptr);
        return m;
    }
};

void check_failure(const Step& step, SaslFailure failure)
{
    REQUIRE(step.kind == Kind::Failure);
    CHECK(step.failure == failure);
}

}  // namespace

TEST_SUITE("sasl")
{
    TEST_CASE("plain accepts the right password and exposes authcid")
    {
        Fixture f;
        auto m = f.make();
        CHECK(m->blocking());
        const Step s = m->start("\0user\0pencil"s);
        REQUIRE(s.kind == Kind::Success);
        CHECK(s.data.empty());
        CHECK(m->authcid() == "user");
        CHECK(m->authzid().empty());
        REQUIRE(f.accounts.lookups.size() == 1);
        CHECK(f.accounts.lookups[0] == std::pair<std::string, Hash>("user", Hash::Sha256));
    }

    TEST_CASE("plain exposes the authzid")
    {
        Fixture f;
        auto m = f.make();
        REQUIRE(m->start("juliet@example.com\0user\0pencil"s).kind == Kind::Success);
        CHECK(m->authzid() == "juliet@example.com");
        CHECK(m->authcid() == "user");
    }

    TEST_CASE("plain falls back to SHA-1 keys when the account has no SHA-256 keys")
    {
        Fixture f;
        auto m = f.make();
        REQUIRE(m->start("\0old\0pencil"s).kind == Kind::Success);
        CHECK(m->authcid() == "old");
        REQUIRE(f.accounts.lookups.size() == 2);
        CHECK(f.accounts.lookups[1] == std::pair<std::string, Hash>("old", Hash::Sha1));
    }

    TEST_CASE("plain prefers SHA-256 keys over SHA-1 keys")
    {
        Fixture f;
        check_failure(f.make()->start("\0user\0other-password"s), SaslFailure::NotAuthorized);
    }

    TEST_CASE("plain without an initial response sends an empty challenge")
    {
        Fixture f;
        auto m = f.make();
        const Step c = m->start(std::nullopt);
        REQUIRE(c.kind == Kind::Challenge);
        CHECK(c.data.empty());
        CHECK(m->step("\0user\0pencil"s).kind == Kind::Success);
    }

    TEST_CASE("plain wrong password and unknown user both fail with not-authorized")
    {
        Fixture f;
        const Step wrong = f.make()->start("\0user\0pencil2"s);
        const Step unknown = f.make()->start("\0nobody\0pencil"s);
        check_failure(wrong, SaslFailure::NotAuthorized);
        check_failure(unknown, SaslFailure::NotAuthorized);
        CHECK(wrong.text == unknown.text);
        check_failure(f.make()->start("\0User\0pencil"s), SaslFailure::NotAuthorized);  // no case folding
    }

    TEST_CASE("plain for an unknown user derives with the configured iterations, as for a known one")
    {
        // The cost of PBKDF2 is what tells a known user from an unknown one by time; nothing else is slow.
        Fixture f;
        f.ctx.unknown_user_iterations = 200000;
        const auto started = std::chrono::steady_clock::now();
        check_failure(f.make()->start("\0nobody\0pencil"s), SaslFailure::NotAuthorized);
        const auto unknown = std::chrono::steady_clock::now() - started;
        f.ctx.unknown_user_iterations = 32;
        const auto again = std::chrono::steady_clock::now();
        check_failure(f.make()->start("\0nobody\0pencil"s), SaslFailure::NotAuthorized);
        CHECK(unknown > 4 * (std::chrono::steady_clock::now() - again));
    }

    TEST_CASE("plain SASLpreps the username and the password")
    {
        Fixture f;
        // U+00AD maps to nothing and U+00A0 to a space (RFC 4013 §2.1).
        auto m = f.make();
        REQUIRE(m->start("\0I\xC2\xAD\xC2\xA0X\0I\xC2\xA0X"s).kind == Kind::Success);
        CHECK(m->authcid() == "I X");
        // A prohibited control character, an empty result, invalid UTF-8.
        check_failure(f.make()->start("\0user\0pen\x07"s "cil"s), SaslFailure::NotAuthorized);
        check_failure(f.make()->start("\0\xC2\xAD\0pencil"s), SaslFailure::NotAuthorized);
        check_failure(f.make()->start("\0user\0\xC2\xAD"s), SaslFailure::NotAuthorized);
        check_failure(f.make()->start("\0us\xff\0pencil"s), SaslFailure::NotAuthorized);
    }

    TEST_CASE("plain refuses malformed messages")
    {
        Fixture f;
        for (const std::string& message : {""s, "user"s, "user\0pencil"s, "\0user"s, "\0user\0"s, "\0\0pencil"s,
                                           "a\0user\0pencil\0"s, "a\0b\0c\0d"s, "\0\0"s})
            check_failure(f.make()->start(message), SaslFailure::MalformedRequest);
        CHECK(f.accounts.lookups.empty());
    }

    TEST_CASE("plain refuses steps after it finished")
    {
        Fixture f;
        auto m = f.make();
        REQUIRE(m->start("\0user\0pencil"s).kind == Kind::Success);
        check_failure(m->step("\0user\0pencil"s), SaslFailure::MalformedRequest);
        check_failure(m->start("\0user\0pencil"s), SaslFailure::MalformedRequest);

        auto failed = f.make();
        check_failure(failed->start("\0user\0wrong"s), SaslFailure::NotAuthorized);
        check_failure(failed->step("\0user\0pencil"s), SaslFailure::MalformedRequest);
    }
}
