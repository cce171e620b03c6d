#include "sasl/scram_client.hpp"

#include "sasl/mechanism.hpp"
#include "support.hpp"

#include <doctest/doctest.h>

using namespace tern;
using crypto::Hash;
using sasl::ScramClient;
using sasl::ScramClientOptions;
using sasl::test::b64d;
using Kind = sasl::Step::Kind;

namespace {

constexpr std::string_view rfc5802_server_first = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
constexpr std::string_view rfc7677_server_first =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

ScramClientOptions with_nonce(std::string nonce)
{
    ScramClientOptions options;
    options.nonce = std::move(nonce);
    return options;
}

}  // namespace

TEST_SUITE("sasl") {

TEST_CASE("scram client reproduces the RFC 5802 section 5 exchange byte for byte")
{
    ScramClient client(Hash::Sha1, "user", "pencil", with_nonce("fyko+d2lbbFgONRv9qkxdawL"));
    CHECK(client.client_first() == "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    CHECK(client.client_final(rfc5802_server_first) ==
          "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    CHECK(client.verify_server_final("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="));
    CHECK_FALSE(client.verify_server_final("v=rmF9pqV8S7suAoZWja4dJRkFsKR="));
    CHECK_FALSE(client.verify_server_final("e=other-error"));
    CHECK(client.salted_password().salt == b64d("QSXCR+Q6sek8bf92"));
    CHECK(client.salted_password().iterations == 4096);
}

TEST_CASE("scram client reproduces the RFC 7677 section 3 exchange byte for byte")
{
    ScramClient client(Hash::Sha256, "user", "pencil", with_nonce("rOprNGfwEbeRWgbNEkqO"));
    CHECK(client.client_first() == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    CHECK(client.client_final(rfc7677_server_first) ==
          "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    CHECK(client.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
}

TEST_CASE("scram client reuses a salted password only for the same salt and iteration count")
{
    ScramClient first(Hash::Sha256, "user", "pencil", with_nonce("rOprNGfwEbeRWgbNEkqO"));
    first.client_first();
    REQUIRE(first.client_final(rfc7677_server_first));
    const sasl::SaltedPassword salted = first.salted_password();

    // A cached value is used as is: a wrong one (here for another password) shows up in the proof.
    ScramClientOptions cached = with_nonce("rOprNGfwEbeRWgbNEkqO");
    cached.salted = salted;
    cached.salted->value = crypto::pbkdf2(Hash::Sha256, "not-pencil", salted.salt, 4096);
    ScramClient reused(Hash::Sha256, "user", "pencil", cached);
    reused.client_first();
    CHECK(reused.client_final(rfc7677_server_first) !=
          "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");

    // Another iteration count: derived again, and the exchange verifies.
    ScramClientOptions stale = with_nonce("rOprNGfwEbeRWgbNEkqO");
    stale.salted = salted;
    stale.salted->iterations = 8192;
    ScramClient rederived(Hash::Sha256, "user", "pencil", stale);
    rederived.client_first();
    CHECK(rederived.client_final(rfc7677_server_first) ==
          "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    CHECK(rederived.salted_password() == salted);
}

TEST_CASE("scram client rejects a server-first it cannot continue")
{
    for (const std::string_view server_first : {
             "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",        // no server nonce added
             "r=XOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",     // not our nonce
             "r=rOprNGfwEbeRWgbNEkqOabc,i=4096",                                 // no salt
             "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==",             // no iteration count
             "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
             "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=40x",
             "r=rOprNGfwEbeRWgbNEkqOabc,s=not*base64,i=4096",
         }) {
        CAPTURE(server_first);
        ScramClient client(Hash::Sha256, "user", "pencil", with_nonce("rOprNGfwEbeRWgbNEkqO"));
        client.client_first();
        CHECK_FALSE(client.client_final(server_first));
        CHECK_FALSE(client.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
    }
}

TEST_CASE("scram client escapes names and sends its gs2 header inside the channel binding")
{
    ScramClientOptions options = with_nonce("abc");
    options.gs2_flag = "p=tls-exporter";
    options.binding_data = "CBDATA";
    options.authzid = "admin=x,y";
    ScramClient client(Hash::Sha1, "a,b=c", "pw", options);
    CHECK(client.client_first() == "p=tls-exporter,a=admin=3Dx=2Cy,n=a=2Cb=3Dc,r=abc");
    const auto final_message = client.client_final("r=abcdef,s=" + crypto::base64_encode("salt") + ",i=16");
    REQUIRE(final_message);
    CHECK(final_message->starts_with("c=" + crypto::base64_encode("p=tls-exporter,a=admin=3Dx=2Cy,CBDATA") + ",r=abcdef,p="));
}

TEST_CASE("scram client logs in to the server mechanism, with and without channel binding")
{
    for (const bool plus : {false, true}) {
        CAPTURE(plus);
        sasl::test::Accounts accounts;
        accounts.add("juliet", Hash::Sha256, "r0meo", "some-salt", 64);
        const std::string exporter(32, '\x42');
        sasl::ServerContext ctx = accounts.context(true, {{"tls-exporter", exporter}});
        auto server = sasl::make_mechanism(plus ? "SCRAM-SHA-256-PLUS" : "SCRAM-SHA-256", ctx);
        REQUIRE(server != nullptr);

        ScramClientOptions options;
        if (plus) {
            options.gs2_flag = "p=tls-exporter";
            options.binding_data = exporter;
        }
        ScramClient client(Hash::Sha256, "juliet", "r0meo", options);
        const sasl::Step challenge = server->start(client.client_first());
        REQUIRE(challenge.kind == Kind::Challenge);
        const auto final_message = client.client_final(challenge.data);
        REQUIRE(final_message);
        const sasl::Step outcome = server->step(*final_message);
        REQUIRE(outcome.kind == Kind::Success);
        CHECK(client.verify_server_final(outcome.data));
    }
}

}  // TEST_SUITE
