#include "sasl/scram.hpp"

#include "support.hpp"

#include <doctest/doctest.h>

using namespace tern;
using namespace tern::sasl;
using namespace tern::sasl::test;
using crypto::Hash;
using xmpp::SaslFailure;
using Kind = Step::Kind;
using namespace std::string_literals;

namespace {

constexpr std::uint32_t fast = 64;  // iterations for tests that are not RFC vectors
const std::string exporter(32, '\x5a');
const std::string end_point(32, '\x33');

// A SHA-256 account "user"/"pencil" with a fixed server nonce.
struct Fixture {
    Accounts accounts;
    ServerContext ctx;

    explicit Fixture(bool tls = true, std::vector<ChannelBinding> bindings = {})
    {
        accounts.add("user", Hash::Sha256, "pencil", "salt-of-user", fast);
        accounts.add("user", Hash::Sha1, "pencil", "salt-of-user", fast);
        ctx = accounts.context(tls, std::move(bindings));
        ctx.server_nonce = [] { return std::string("SERVERNONCE"); };
    }

    std::unique_ptr<Mechanism> make(std::string_view name = "SCRAM-SHA-256")
    {
        auto m = make_mechanism(name, ctx);
        REQUIRE(m != nullptr);
        return m;
    }
};

// Runs client-first and client-final; returns the last step.
Step exchange(Mechanism& m, ScramClient& client)
{
    const Step first = m.start(client.first());
    if (first.kind != Kind::Challenge)
        return first;
    return m.step(client.final_message(first.data));
}

void check_failure(const Step& step, SaslFailure failure, std::string_view text = {})
{
    REQUIRE(step.kind == Kind::Failure);
    CHECK(step.failure == failure);
    if (!text.empty())
        CHECK(step.text == text);
}

// Client-first must fail at once with malformed-request.
void check_malformed_first(std::string_view message)
{
    Fixture f;
    auto m = f.make();
    const Step s = m->start(message);
    CHECK_MESSAGE(s.kind == Kind::Failure, "accepted client-first: ", message);
    CHECK_MESSAGE(s.failure == SaslFailure::MalformedRequest, "client-first: ", message);
}

// Client-final after a good client-first must fail with malformed-request.
void check_malformed_final(std::string_view message)
{
    Fixture f;
    auto m = f.make();
    REQUIRE(m->start("n,,n=user,r=abc").kind == Kind::Challenge);
    const Step s = m->step(message);
    CHECK_MESSAGE(s.kind == Kind::Failure, "accepted client-final: ", message);
    CHECK_MESSAGE(s.failure == SaslFailure::MalformedRequest, "client-final: ", message);
}

}  // namespace

TEST_SUITE("sasl")
{
    TEST_CASE("scram sha1 reproduces the RFC 5802 section 5 exchange byte for byte")
    {
        Accounts accounts;
        accounts.add("user", Hash::Sha1, "pencil", b64d("QSXCR+Q6sek8bf92"), 4096);
        ServerContext ctx = accounts.context(false);
        ctx.server_nonce = [] { return std::string("3rfcNHYJY1ZVvWVs7j"); };
        auto m = make_mechanism("SCRAM-SHA-1", ctx);
        REQUIRE(m != nullptr);
        CHECK_FALSE(m->blocking());

        const Step first = m->start("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        REQUIRE(first.kind == Kind::Challenge);
        CHECK(first.data == "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");

        const Step last =
            m->step("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
        REQUIRE(last.kind == Kind::Success);
        CHECK(last.data == "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
        CHECK(m->authcid() == "user");
        CHECK(m->authzid().empty());
        REQUIRE(accounts.lookups.size() == 1);
        CHECK(accounts.lookups[0] == std::pair<std::string, Hash>("user", Hash::Sha1));
    }

    TEST_CASE("scram sha256 reproduces the RFC 7677 section 3 exchange byte for byte")
    {
        Accounts accounts;
        accounts.add("user", Hash::Sha256, "pencil", b64d("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        ServerContext ctx = accounts.context(false);
        ctx.server_nonce = [] { return std::string("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"); };
        auto m = make_mechanism("SCRAM-SHA-256", ctx);
        REQUIRE(m != nullptr);

        const Step first = m->start("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        REQUIRE(first.kind == Kind::Challenge);
        CHECK(first.data ==
              "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");

        const Step last = m->step("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                  "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        REQUIRE(last.kind == Kind::Success);
        CHECK(last.data == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
        CHECK(m->authcid() == "user");
        REQUIRE(accounts.lookups.size() == 1);
        CHECK(accounts.lookups[0].second == Hash::Sha256);
    }

    TEST_CASE("scram without an initial response sends an empty challenge and takes client-first next")
    {
        Fixture f;
        auto m = f.make();
        const Step empty = m->start(std::nullopt);
        REQUIRE(empty.kind == Kind::Challenge);
        CHECK(empty.data.empty());
        ScramClient client;
        const Step first = m->step(client.first());
        REQUIRE(first.kind == Kind::Challenge);
        CHECK(first.data == "r=rOprNGfwEbeRWgbNEkqOSERVERNONCE,s=" + crypto::base64_encode("salt-of-user") + ",i=64");
        const Step last = m->step(client.final_message(first.data));
        REQUIRE(last.kind == Kind::Success);
        CHECK(last.data == client.expected_server_final);
    }

    TEST_CASE("scram refuses an empty initial response")
    {
        Fixture f;
        check_failure(f.make()->start(""), SaslFailure::MalformedRequest);
    }

    TEST_CASE("scram default server nonce is fresh base64")
    {
        Fixture f;
        f.ctx.server_nonce = nullptr;
        auto a = f.make();
        auto b = f.make();
        const std::string na = a->start("n,,n=user,r=abc").data;
        const std::string nb = b->start("n,,n=user,r=abc").data;
        REQUIRE(na.rfind("r=abc", 0) == 0);
        const std::string server_part = na.substr(5, na.find(',') - 5);
        CHECK(server_part.size() == 24);
        CHECK(crypto::base64_decode(server_part).has_value());
        CHECK(na != nb);
    }

    TEST_CASE("scram sha1 and sha256 succeed with a computed client")
    {
        for (auto [name, hash] : {std::pair{"SCRAM-SHA-1", Hash::Sha1}, std::pair{"SCRAM-SHA-256", Hash::Sha256}}) {
            Fixture f;
            auto m = f.make(name);
            ScramClient client;
            client.hash = hash;
            const Step last = exchange(*m, client);
            REQUIRE(last.kind == Kind::Success);
            CHECK(last.data == client.expected_server_final);
            CHECK(f.accounts.lookups.back().second == hash);
        }
    }

    TEST_CASE("scram wrong password fails at the proof with not-authorized")
    {
        Fixture f;
        auto m = f.make();
        ScramClient client;
        client.password = "pencil2";
        check_failure(exchange(*m, client), SaslFailure::NotAuthorized, "invalid-proof");
    }

    TEST_CASE("scram unknown user sees a stable fake salt and fails exactly like a wrong password")
    {
        Fixture f;
        f.ctx.unknown_user_iterations = 77;
        auto challenge_for = [&](std::string_view user) {
            auto m = f.make();
            const Step s = m->start("n,,n=" + std::string(user) + ",r=abc");
            REQUIRE(s.kind == Kind::Challenge);
            return s.data;
        };
        const std::string first = challenge_for("nobody");
        CHECK(first == challenge_for("nobody"));
        CHECK(first != challenge_for("somebody"));
        const auto s_at = first.find(",s=");
        const auto i_at = first.find(",i=");
        REQUIRE(s_at != std::string::npos);
        REQUIRE(i_at != std::string::npos);
        CHECK(first.substr(0, s_at) == "r=abcSERVERNONCE");
        CHECK(b64d(first.substr(s_at + 3, i_at - s_at - 3)).size() == 16);
        CHECK(first.substr(i_at) == ",i=77");

        auto m = f.make();
        ScramClient client;
        client.bare = "n=nobody,r=abc";
        check_failure(exchange(*m, client), SaslFailure::NotAuthorized, "invalid-proof");
    }

    TEST_CASE("scram unknown user's salt depends on the secret, the realm and the hash, not on the process")
    {
        auto salt_for = [](std::string secret, std::string realm, std::string_view mechanism) {
            Fixture f;
            f.ctx.unknown_user_secret = std::move(secret);
            f.ctx.realm = std::move(realm);
            const Step s = f.make(mechanism)->start("n,,n=nobody,r=abc");
            REQUIRE(s.kind == Kind::Challenge);
            const auto s_at = s.data.find(",s=");
            return s.data.substr(s_at + 3, s.data.find(",i=") - s_at - 3);
        };
        const std::string secret(32, '\x07');
        const std::string salt = salt_for(secret, "example.org", "SCRAM-SHA-256");
        // A fresh Fixture stands for a restarted server: the same secret from data_dir, the same salt.
        CHECK(salt_for(secret, "example.org", "SCRAM-SHA-256") == salt);
        CHECK(salt_for(std::string(32, '\x08'), "example.org", "SCRAM-SHA-256") != salt);
        CHECK(salt_for(secret, "example.net", "SCRAM-SHA-256") != salt);
        CHECK(salt_for(secret, "example.org", "SCRAM-SHA-1") != salt);
    }

    TEST_CASE("scram treats unusable stored keys as an unknown user")
    {
        Fixture f;
        f.accounts.keys[{"user", Hash::Sha256}].stored_key = "short";
        auto m = f.make();
        ScramClient client;
        check_failure(exchange(*m, client), SaslFailure::NotAuthorized, "invalid-proof");
    }

    TEST_CASE("scram account without keys for the hash fails like an unknown user")
    {
        Accounts accounts;
        accounts.add("user", Hash::Sha1, "pencil", "salt", fast);
        ServerContext ctx = accounts.context();
        auto m = make_mechanism("SCRAM-SHA-256", ctx);
        REQUIRE(m != nullptr);
        ScramClient client;
        check_failure(exchange(*m, client), SaslFailure::NotAuthorized, "invalid-proof");
    }

    TEST_CASE("scram proof of the wrong length fails with not-authorized")
    {
        Fixture f;
        auto m = f.make();
        REQUIRE(m->start("n,,n=user,r=abc").kind == Kind::Challenge);
        check_failure(m->step("c=biws,r=abcSERVERNONCE,p=" + crypto::base64_encode(std::string(20, 'x'))),
                      SaslFailure::NotAuthorized, "invalid-proof");
    }

    TEST_CASE("scram client-final with another nonce fails")
    {
        Fixture f;
        auto m = f.make();
        ScramClient client;
        const Step first = m->start(client.first());
        REQUIRE(first.kind == Kind::Challenge);
        std::string tampered = first.data;
        tampered.replace(tampered.find("SERVERNONCE"), 11, "SERVERNONCX");
        check_failure(m->step(client.final_message(tampered)), SaslFailure::NotAuthorized, "nonce mismatch");

        Fixture g;
        auto m2 = g.make();
        REQUIRE(m2->start("n,,n=user,r=abc").kind == Kind::Challenge);
        check_failure(m2->step("c=biws,r=abc,p=" + crypto::base64_encode(std::string(32, 'x'))),
                      SaslFailure::NotAuthorized, "nonce mismatch");
    }

    TEST_CASE("scram c= must repeat the gs2 header")
    {
        Fixture f;
        auto m = f.make();
        ScramClient client;
        const Step first = m->start(client.first());
        client.gs2_header = "y,,";  // the client claims another header in c=
        check_failure(m->step(client.final_message(first.data)), SaslFailure::NotAuthorized,
                      "channel-bindings-dont-match");
    }

    TEST_CASE("scram y flag succeeds when the server has no channel binding")
    {
        Fixture f(true, {});
        auto m = f.make();
        ScramClient client;
        client.gs2_header = "y,,";
        const Step last = exchange(*m, client);
        REQUIRE(last.kind == Kind::Success);
        CHECK(last.data == client.expected_server_final);
    }

    TEST_CASE("scram y flag is refused as a downgrade when the server offers tls-unique")
    {
        Fixture f(true, {{"tls-unique", std::string(12, '\x21')}, {"tls-server-end-point", end_point}});
        auto m = f.make();
        check_failure(m->start("y,,n=user,r=abc"), SaslFailure::NotAuthorized, "server-does-support-channel-binding");
        CHECK(f.accounts.lookups.empty());
    }

    TEST_CASE("scram y flag is accepted where the offered bindings exclude tls-unique (TLS 1.3)")
    {
        Fixture f(true, {{"tls-exporter", exporter}, {"tls-server-end-point", end_point}});
        auto m = f.make();
        ScramClient client;
        client.gs2_header = "y,,";
        CHECK(exchange(*m, client).kind == Kind::Success);
    }

    TEST_CASE("scram y flag is refused whenever bindings are offered with strict_channel_binding_flag")
    {
        for (const char* type : {"tls-exporter", "tls-server-end-point", "tls-unique"}) {
            CAPTURE(type);
            Fixture f(true, {{type, exporter}});
            f.ctx.strict_channel_binding_flag = true;
            check_failure(f.make()->start("y,,n=user,r=abc"), SaslFailure::NotAuthorized,
                          "server-does-support-channel-binding");
        }
        Fixture none;
        none.ctx.strict_channel_binding_flag = true;
        ScramClient client;
        client.gs2_header = "y,,";
        CHECK(exchange(*none.make(), client).kind == Kind::Success);
    }

    TEST_CASE("y_flag_is_downgrade: never without bindings, on tls-unique by default, on any binding when strict")
    {
        ServerContext ctx;
        CHECK_FALSE(y_flag_is_downgrade(ctx));
        ctx.bindings = {{"tls-exporter", exporter}, {"tls-server-end-point", end_point}};
        CHECK_FALSE(y_flag_is_downgrade(ctx));
        ctx.bindings.push_back({"tls-unique", "f"});
        CHECK(y_flag_is_downgrade(ctx));
        ctx.bindings = {{"tls-server-end-point", end_point}};
        ctx.strict_channel_binding_flag = true;
        CHECK(y_flag_is_downgrade(ctx));
    }

    TEST_CASE("scram server-first carries XEP-0474's d= over the offered mechanisms and binding types")
    {
        Fixture f(true, {{"tls-server-end-point", end_point}, {"tls-exporter", exporter}});
        f.ctx.offered = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "PLAIN"};
        // Sorted, 0x1E between names, 0x1F before the binding types (XEP-0474 0.4, ejabberd's xmpp library).
        const std::string input = "PLAIN\x1eSCRAM-SHA-256\x1eSCRAM-SHA-256-PLUS\x1ftls-exporter\x1etls-server-end-point";
        const std::string expected = crypto::base64_encode(crypto::digest(Hash::Sha256, input));
        CHECK(downgrade_protection_hash(Hash::Sha256, f.ctx.offered, {"tls-server-end-point", "tls-exporter"}) == expected);
        const Step first = f.make()->start("n,,n=user,r=abc");
        REQUIRE(first.kind == Kind::Challenge);
        CHECK(first.data.ends_with(",i=64,d=" + expected));
        // The client's proof covers the d= attribute like the rest of server-first.
        ScramClient client;
        CHECK(exchange(*f.make(), client).kind == Kind::Success);
        // Without bindings, no 0x1F part; with nothing offered (a caller that does not say), no d= at all.
        CHECK(downgrade_protection_hash(Hash::Sha1, {"SCRAM-SHA-1", "PLAIN"}, {}) ==
              crypto::base64_encode(crypto::digest(Hash::Sha1, "PLAIN\x1eSCRAM-SHA-1")));
        f.ctx.offered.clear();
        CHECK(f.make()->start("n,,n=user,r=abc").data.find(",d=") == std::string::npos);
    }

    TEST_CASE("scram n flag is fine on a non-PLUS mechanism even when the server offers channel binding")
    {
        Fixture f(true, {{"tls-exporter", exporter}});
        auto m = f.make();
        ScramClient client;
        CHECK(exchange(*m, client).kind == Kind::Success);
    }

    TEST_CASE("scram p flag on a non-PLUS mechanism is refused")
    {
        Fixture f(true, {{"tls-exporter", exporter}});
        auto m = f.make();
        check_failure(m->start("p=tls-exporter,,n=user,r=abc"), SaslFailure::MalformedRequest);
    }

    TEST_CASE("scram plus succeeds with matching channel-binding data")
    {
        for (const char* name : {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"}) {
            Fixture f(true, {{"tls-exporter", exporter}, {"tls-server-end-point", end_point}});
            auto m = f.make(name);
            ScramClient client;
            client.hash = std::string_view(name) == "SCRAM-SHA-1-PLUS" ? Hash::Sha1 : Hash::Sha256;
            client.gs2_header = "p=tls-exporter,,";
            client.cb_data = exporter;
            const Step last = exchange(*m, client);
            REQUIRE(last.kind == Kind::Success);
            CHECK(last.data == client.expected_server_final);
        }
        Fixture f(true, {{"tls-exporter", exporter}, {"tls-server-end-point", end_point}});
        auto m = f.make("SCRAM-SHA-256-PLUS");
        ScramClient client;
        client.gs2_header = "p=tls-server-end-point,,";
        client.cb_data = end_point;
        CHECK(exchange(*m, client).kind == Kind::Success);
    }

    TEST_CASE("scram plus with mismatching channel-binding data is not-authorized")
    {
        Fixture f(true, {{"tls-exporter", exporter}, {"tls-server-end-point", end_point}});
        for (const std::string& wrong : {end_point, std::string(), exporter.substr(1), exporter + "x"}) {
            auto m = f.make("SCRAM-SHA-256-PLUS");
            ScramClient client;
            client.gs2_header = "p=tls-exporter,,";
            client.cb_data = wrong;
            check_failure(exchange(*m, client), SaslFailure::NotAuthorized, "channel-bindings-dont-match");
        }
    }

    TEST_CASE("scram plus with an unoffered channel-binding type is refused")
    {
        Fixture f(true, {{"tls-exporter", exporter}});
        for (std::string_view type : {"tls-unique", "tls-server-end-point", "TLS-EXPORTER", "x"}) {
            auto m = f.make("SCRAM-SHA-256-PLUS");
            check_failure(m->start("p=" + std::string(type) + ",,n=user,r=abc"), SaslFailure::MalformedRequest,
                          "unsupported-channel-binding-type");
        }
    }

    TEST_CASE("scram plus requires the p flag")
    {
        Fixture f(true, {{"tls-exporter", exporter}});
        check_failure(f.make("SCRAM-SHA-256-PLUS")->start("n,,n=user,r=abc"), SaslFailure::MalformedRequest);
        check_failure(f.make("SCRAM-SHA-256-PLUS")->start("y,,n=user,r=abc"), SaslFailure::MalformedRequest);
    }

    TEST_CASE("scram exposes the authzid and binds it through c=")
    {
        Fixture f;
        auto m = f.make();
        ScramClient client;
        client.gs2_header = "n,a=juliet@example.com,";
        const Step last = exchange(*m, client);
        REQUIRE(last.kind == Kind::Success);
        CHECK(m->authzid() == "juliet@example.com");
        CHECK(m->authcid() == "user");

        auto escaped = f.make();
        ScramClient client2;
        client2.gs2_header = "n,a=a=2Cb=3Dc,";
        REQUIRE(exchange(*escaped, client2).kind == Kind::Success);
        CHECK(escaped->authzid() == "a,b=c");

        // An authzid in c= that differs from the gs2 header sent first.
        auto tampered = f.make();
        ScramClient client3;
        client3.gs2_header = "n,a=romeo@example.com,";
        const Step first = tampered->start(client3.first());
        client3.gs2_header = "n,a=juliet@example.com,";
        check_failure(tampered->step(client3.final_message(first.data)), SaslFailure::NotAuthorized,
                      "channel-bindings-dont-match");
    }

    TEST_CASE("scram unescapes then SASLpreps the username")
    {
        Fixture f;
        f.accounts.add("us,er=x", Hash::Sha256, "pencil", "s", fast);
        auto m = f.make();
        ScramClient client;
        client.bare = "n=us=2Cer=3Dx,r=abc";
        const Step last = exchange(*m, client);
        REQUIRE(last.kind == Kind::Success);
        CHECK(m->authcid() == "us,er=x");
        CHECK(f.accounts.lookups.back().first == "us,er=x");

        // U+00AD SOFT HYPHEN is mapped to nothing; U+00A0 NO-BREAK SPACE to a space (RFC 4013 §2.1).
        f.accounts.add("I X", Hash::Sha256, "pencil", "s", fast);
        auto prepped = f.make();
        ScramClient client2;
        client2.bare = "n=I\xC2\xAD\xC2\xA0X,r=abc";
        REQUIRE(exchange(*prepped, client2).kind == Kind::Success);
        CHECK(prepped->authcid() == "I X");
    }

    TEST_CASE("scram refuses usernames with bad escapes or that SASLprep rejects")
    {
        for (std::string_view user : {"us=2cer", "us=41er", "user=", "user=2", "=", "us=er"})
            check_malformed_first("n,,n=" + std::string(user) + ",r=abc");
        Fixture f;
        // A control character is prohibited; a username of only mapped-to-nothing characters is empty.
        check_failure(f.make()->start("n,,n=us\x07" "er,r=abc"), SaslFailure::MalformedRequest,
                      "invalid-username-encoding");
        check_failure(f.make()->start("n,,n=\xC2\xAD,r=abc"), SaslFailure::MalformedRequest,
                      "invalid-username-encoding");
        CHECK(f.accounts.lookups.empty());
    }

    TEST_CASE("scram refuses the m extension")
    {
        Fixture f;
        check_failure(f.make()->start("n,,m=foo,n=user,r=abc"), SaslFailure::MalformedRequest,
                      "extensions-not-supported");
        check_failure(f.make()->start("n,,n=user,r=abc,m=foo"), SaslFailure::MalformedRequest,
                      "extensions-not-supported");
    }

    TEST_CASE("scram ignores other extensions but keeps them in the AuthMessage")
    {
        Fixture f;
        auto m = f.make();
        ScramClient client;
        client.bare = "n=user,r=abc,x=first-ext";
        client.final_extensions = ",y=final=ext";
        const Step last = exchange(*m, client);
        REQUIRE(last.kind == Kind::Success);
        CHECK(last.data == client.expected_server_final);
    }

    TEST_CASE("scram refuses malformed client-first messages")
    {
        for (std::string_view message : {
                 "", "n", "n,", "n,,", "n,,n=user", "n,,n=user,", ",,n=user,r=abc", "x,,n=user,r=abc",
                 "N,,n=user,r=abc", "nn,,n=user,r=abc", "p,,n=user,r=abc", "p=,,n=user,r=abc",
                 "p=tls_exporter,,n=user,r=abc", "n,b=x,n=user,r=abc", "n,a=,n=user,r=abc", "n,a=x=,n=user,r=abc",
                 "n,a=x,y,n=user,r=abc", "n,,r=abc,n=user", "n,,n=,r=abc", "n,,user,r=abc", "n,,n=user,r=",
                 "n,,n=user,nonce", "n,,n=user,r=a b", "n,,n=user,r=a\x7f", "n,,n=user,r=abc,",
                 "n,,n=user,r=abc,x", "n,,n=user,r=abc,x=", "n,,n=user,r=abc,1=x", "n,,n=user,r=abc,xy=z",
                 "n,,n=user,,r=abc", "n,,n=\xff,r=abc", "n,,n=user,r=\xc3\xa9", "n,,n=us\xc3\x28,r=abc",
             })
            check_malformed_first(message);
        check_malformed_first("n,,n=us\0er,r=abc"s);
        check_malformed_first("n,,n=user,r=abc\0"s);
    }

    TEST_CASE("scram refuses malformed client-final messages")
    {
        const std::string proof = crypto::base64_encode(std::string(32, 'x'));
        for (const std::string& message : {
                 std::string(), "c=biws"s, "c=biws,r=abcSERVERNONCE"s, "r=abcSERVERNONCE,c=biws,p="s + proof,
                 "c=biws,p="s + proof + ",r=abcSERVERNONCE"s, "c=biw,r=abcSERVERNONCE,p="s + proof,
                 "c=bi ws,r=abcSERVERNONCE,p="s + proof, "c=biws,r=abcSERVERNONCE,p=!!!!"s,
                 "c=biws,r=abcSERVERNONCE,p="s + proof.substr(1), "c=biws,r=abcSERVERNONCE,p="s + proof + ",x=y"s,
                 "c=biws,r=abcSERVERNONCE,p="s + proof + ","s, "c=biws,r=abcSERVERNONCE,p=x,p="s + proof,
                 "c=biws,r=abcSERVERNONCE,,p="s + proof, "c=biws,r=,p="s + proof, "c=biws,r=abcSERVERNONCE,q="s + proof,
                 "c=biws,r=abcSERVERNONCE,p="s + proof + "\0"s, "c=biws,r=abcSERVERNONCE,x=\xff,p="s + proof,
             })
            check_malformed_final(message);
    }

    TEST_CASE("scram after success or failure refuses further steps")
    {
        Fixture f;
        auto m = f.make();
        ScramClient client;
        REQUIRE(exchange(*m, client).kind == Kind::Success);
        check_failure(m->step("anything"), SaslFailure::MalformedRequest);
        check_failure(m->start(client.first()), SaslFailure::MalformedRequest);

        auto failed = f.make();
        REQUIRE(failed->start("garbage").kind == Kind::Failure);
        check_failure(failed->step(client.first()), SaslFailure::MalformedRequest);
    }
}
