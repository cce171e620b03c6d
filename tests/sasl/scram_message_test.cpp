#include "sasl/scram_message.hpp"

#include <doctest/doctest.h>

using namespace tern::sasl::scram;

TEST_SUITE("sasl")
{
    TEST_CASE("scram_message splits client-first into gs2 header and bare message")
    {
        auto first = parse_client_first("p=tls-exporter,a=ju=2Cliet,n=us=3Der,r=abc,x=ext");
        REQUIRE(first.has_value());
        CHECK(first->flag == CbFlag::Used);
        CHECK(first->cb_type == "tls-exporter");
        CHECK(first->authzid == "ju,liet");
        CHECK(first->gs2_header == "p=tls-exporter,a=ju=2Cliet,");
        CHECK(first->bare == "n=us=3Der,r=abc,x=ext");
        CHECK(first->username == "us=er");
        CHECK(first->nonce == "abc");

        auto n = parse_client_first("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        REQUIRE(n.has_value());
        CHECK(n->flag == CbFlag::NotSupported);
        CHECK(n->gs2_header == "n,,");
        CHECK(n->authzid.empty());
        CHECK(n->nonce == "fyko+d2lbbFgONRv9qkxdawL");

        auto y = parse_client_first("y,,n=user,r=!~");
        REQUIRE(y.has_value());
        CHECK(y->flag == CbFlag::ServerLacksIt);
        CHECK(y->nonce == "!~");
    }

    TEST_CASE("scram_message reports the m extension separately")
    {
        CHECK(parse_client_first("n,,m=x,n=user,r=abc").error() == "extensions-not-supported");
        CHECK(parse_client_first("n,,n=us=er,r=abc").error() == "invalid-username-encoding");
        CHECK(parse_client_first("n,,n=user").error() == "invalid-encoding");
    }

    TEST_CASE("scram_message parses client-final and keeps the part before the proof verbatim")
    {
        auto final_message = parse_client_final("c=biws,r=abc,x=1,p=AAAA");
        REQUIRE(final_message.has_value());
        CHECK(final_message->channel_binding == "n,,");
        CHECK(final_message->nonce == "abc");
        CHECK(final_message->without_proof == "c=biws,r=abc,x=1");
        CHECK(final_message->proof == std::string(3, '\0'));
    }

    TEST_CASE("scram_message decode_saslname handles exactly =2C and =3D")
    {
        CHECK(decode_saslname("a=2Cb=3Dc") == "a,b=c");
        CHECK(decode_saslname("=3D=3D") == "==");
        CHECK(decode_saslname("plain") == "plain");
        for (std::string_view bad : {"", "=", "=2", "=2c", "=3d", "=20", "a=b", "a="})
            CHECK_FALSE(decode_saslname(bad).has_value());
    }
}
