#include "support.hpp"

#include "tls/certificate.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace tern::tls;
using namespace tern::tls::test;

namespace {

std::string pattern(std::size_t size)
{
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        data[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
    return data;
}

std::string end_point_of(const std::string& cert_path)
{
    const auto der = first_certificate_der(read_text(cert_path));
    REQUIRE(der);
    const auto hash = server_end_point(*der);
    REQUIRE(hash);
    return *hash;
}

}  // namespace

TEST_SUITE("tls")
{
    TEST_CASE("engine completes a TLS 1.3 handshake and carries data both ways")
    {
        Certificates certs;
        auto c = connect(server_context(certs), client_context(), {.server_name = "example.org"});
        CHECK(c.server.is_tls13());
        CHECK(c.client.is_tls13());
        CHECK(c.server.protocol_version() == "TLSv1.3");
        CHECK(c.client.protocol_version() == "TLSv1.3");
        CHECK(c.server.cipher() == c.client.cipher());
        CHECK(c.server.cipher().find("AES128-GCM") != std::string_view::npos);
        CHECK(c.server.server_name() == "example.org");
        CHECK_FALSE(c.server.resumed());
        CHECK(send(c.client, c.server, "<stream:stream>") == "<stream:stream>");
        CHECK(send(c.server, c.client, "<stream:features/>") == "<stream:features/>");
    }

    TEST_CASE("engine negotiates TLS 1.2 with an ECDHE AEAD suite when the client offers at most 1.2")
    {
        Certificates certs;
        auto c = connect(server_context(certs), client_context({.max_version = Version::Tls1_2}));
        CHECK_FALSE(c.server.is_tls13());
        CHECK(c.server.protocol_version() == "TLSv1.2");
        CHECK(c.client.protocol_version() == "TLSv1.2");
        CHECK(c.server.cipher() == "ECDHE-ECDSA-AES128-GCM-SHA256");
        CHECK(send(c.client, c.server, "ping") == "ping");
        CHECK(send(c.server, c.client, "pong") == "pong");
    }

    TEST_CASE("engine carries a 100 KB message and releases its buffers afterwards")
    {
        Certificates certs;
        auto c = connect(server_context(certs), client_context());
        const auto big = pattern(100 * 1024);
        CHECK(send(c.client, c.server, big) == big);
        CHECK(send(c.server, c.client, big) == big);
        CHECK(c.client.buffer_capacity() == 0);
        CHECK(c.server.buffer_capacity() == 0);
    }

    TEST_CASE("engine handshakes when the bytes arrive one at a time")
    {
        Certificates certs;
        auto server_ctx = server_context(certs);
        auto client = Engine::client(client_context(), {.server_name = "other.test"});
        auto server = Engine::server(server_ctx);
        Status c = Status::WantRead;
        Status s = Status::WantRead;
        for (int round = 0; round < 16 && (c == Status::WantRead || s == Status::WantRead); ++round) {
            if (c == Status::WantRead)
                c = client.handshake();
            for (char byte : client.take_outgoing()) {
                server.feed(std::string_view(&byte, 1));
                if (s == Status::WantRead)
                    s = server.handshake();
            }
            for (char byte : server.take_outgoing()) {
                client.feed(std::string_view(&byte, 1));
                if (c == Status::WantRead)
                    c = client.handshake();
            }
        }
        REQUIRE(c == Status::Done);
        REQUIRE(s == Status::Done);
        CHECK(server.server_name() == "other.test");
        CHECK(send(client, server, "hello") == "hello");
    }

    TEST_CASE("engine hands over application data that arrives with the client's Finished")
    {
        Certificates certs;
        auto client = Engine::client(client_context());
        auto server = Engine::server(server_context(certs));
        CHECK(client.handshake() == Status::WantRead);
        server.feed(client.take_outgoing());
        CHECK(server.handshake() == Status::WantRead);
        client.feed(server.take_outgoing());
        REQUIRE(client.handshake() == Status::Done);  // TLS 1.3: the client is done first
        REQUIRE(client.write("<stream:stream to='example.org'>") == Status::Done);
        server.feed(client.take_outgoing());  // Finished and the stream header in one read
        REQUIRE(server.handshake() == Status::Done);
        std::string plain;
        CHECK(server.read(plain) == Status::WantRead);
        CHECK(plain == "<stream:stream to='example.org'>");
    }

    TEST_CASE("engine keeps working after being moved between handshake steps")
    {
        Certificates certs;
        auto server_ctx = server_context(certs);
        std::vector<Engine> engines;
        engines.push_back(Engine::client(client_context()));
        engines.push_back(Engine::server(server_ctx));
        CHECK(engines[0].handshake() == Status::WantRead);
        engines[1].feed(engines[0].take_outgoing());
        CHECK(engines[1].handshake() == Status::WantRead);
        engines.reserve(engines.capacity() * 4);  // relocates both engines
        Engine client = std::move(engines[0]);
        Engine server = Engine::server(server_ctx);
        server = std::move(engines[1]);
        const auto [cs, ss] = run_handshake(client, server);
        REQUIRE(cs == Status::Done);
        REQUIRE(ss == Status::Done);
        CHECK(send(server, client, "moved") == "moved");
        CHECK(engines[0].handshake() == Status::Failed);
    }

    TEST_CASE("engine reports close_notify as Closed on both sides")
    {
        Certificates certs;
        auto c = connect(server_context(certs), client_context());
        c.client.shutdown();
        REQUIRE(c.client.has_outgoing());
        c.server.feed(c.client.take_outgoing());
        std::string plain;
        CHECK(c.server.read(plain) == Status::Closed);
        CHECK(plain.empty());
        c.server.shutdown();
        c.server.shutdown();  // queued once
        const auto reply = c.server.take_outgoing();
        CHECK_FALSE(reply.empty());
        c.client.feed(reply);
        CHECK(c.client.read(plain) == Status::Closed);
        CHECK(c.server.read(plain) == Status::Closed);
    }

    TEST_CASE("engine delivers data sent just before close_notify")
    {
        Certificates certs;
        auto c = connect(server_context(certs), client_context());
        REQUIRE(c.client.write("</stream:stream>") == Status::Done);
        c.client.shutdown();
        c.server.feed(c.client.take_outgoing());
        std::string plain;
        CHECK(c.server.read(plain) == Status::Closed);
        CHECK(plain == "</stream:stream>");
    }

    TEST_CASE("engine fails when the client does not speak TLS")
    {
        Certificates certs;
        auto server = Engine::server(server_context(certs));
        server.feed("<?xml version='1.0'?><stream:stream to='example.org'>");
        CHECK(server.handshake() == Status::Failed);
        CHECK(server.last_error().find("ClientHello") != std::string::npos);
        CHECK_FALSE(server.has_outgoing());
        std::string plain;
        CHECK(server.read(plain) == Status::Failed);
        CHECK(server.buffer_capacity() == 0);
    }

    TEST_CASE("engine fails on a malformed ClientHello")
    {
        Certificates certs;
        auto server = Engine::server(server_context(certs));
        // A handshake record holding a ClientHello whose body is cut short.
        server.feed(std::string("\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00", 13));
        CHECK(server.handshake() == Status::Failed);
        CHECK_FALSE(server.last_error().empty());
    }

    TEST_CASE("engine fails on a corrupted record after the handshake and sends an alert")
    {
        Certificates certs;
        auto c = connect(server_context(certs), client_context());
        REQUIRE(c.client.write("secret") == Status::Done);
        auto record = c.client.take_outgoing();
        record[record.size() - 1] ^= 0x01;
        c.server.feed(record);
        std::string plain;
        CHECK(c.server.read(plain) == Status::Failed);
        CHECK(plain.empty());
        CHECK_FALSE(c.server.last_error().empty());
        CHECK(c.server.has_outgoing());
        CHECK(c.server.write("more") == Status::Failed);
    }

    TEST_CASE("engine refuses to write before the handshake is complete")
    {
        auto client = Engine::client(client_context());
        CHECK(client.write("early") == Status::Failed);
        CHECK(client.last_error().find("before the handshake") != std::string::npos);
        CHECK(client.handshake() == Status::WantRead);  // still usable
    }

    TEST_CASE("engine selects the certificate of the domain named by SNI")
    {
        Certificates certs;
        auto server_ctx = server_context(certs);
        const auto main_hash = end_point_of(certs.main.certificate_path);
        const auto other_hash = end_point_of(certs.other.certificate_path);
        REQUIRE(main_hash != other_hash);

        SUBCASE("second domain")
        {
            auto c = connect(server_ctx, client_context(), {.server_name = "other.test"});
            CHECK(c.server.server_name() == "other.test");
            CHECK(c.client.channel_binding("tls-server-end-point") == other_hash);
            CHECK(c.server.channel_binding("tls-server-end-point") == other_hash);
        }
        SUBCASE("names are matched without regard to case")
        {
            auto c = connect(server_ctx, client_context(), {.server_name = "Other.TEST"});
            CHECK(c.server.server_name() == "other.test");
            CHECK(c.client.channel_binding("tls-server-end-point") == other_hash);
        }
        SUBCASE("unknown name gets the default domain")
        {
            auto c = connect(server_ctx, client_context(), {.server_name = "unknown.example"});
            CHECK(c.server.server_name() == "unknown.example");
            CHECK(c.client.channel_binding("tls-server-end-point") == main_hash);
        }
        SUBCASE("no SNI gets the default domain")
        {
            auto c = connect(server_ctx, client_context());
            CHECK(c.server.server_name().empty());
            CHECK(c.client.channel_binding("tls-server-end-point") == main_hash);
        }
    }

    TEST_CASE("client verifies the server certificate when given a CA file")
    {
        Certificates certs;
        auto server_ctx = server_context(certs);
        SUBCASE("trusted certificate and matching name")
        {
            auto client_ctx = client_context({.ca_file = certs.main.certificate_path});
            connect(server_ctx, client_ctx, {.server_name = "conference.example.org"});
        }
        SUBCASE("untrusted certificate")
        {
            auto client_ctx = client_context({.ca_file = certs.other.certificate_path});
            auto client = Engine::client(client_ctx, {.server_name = "example.org"});
            auto server = Engine::server(server_ctx);
            CHECK(run_handshake(client, server).first == Status::Failed);
            CHECK_FALSE(client.last_error().empty());
        }
        SUBCASE("name not in the certificate")
        {
            auto client_ctx = client_context({.ca_file = certs.main.certificate_path});
            auto client = Engine::client(client_ctx, {.server_name = "example.net"});
            auto server = Engine::server(server_ctx);
            CHECK(run_handshake(client, server).first == Status::Failed);
        }
    }

    TEST_CASE("direct TLS negotiates ALPN xmpp-client")
    {
        Certificates certs;
        auto server_ctx = server_context(certs);
        SUBCASE("direct TLS port")
        {
            auto c = connect(server_ctx, client_context(), {.alpn = {"xmpp-client"}}, {.direct_tls = true});
            CHECK(c.server.alpn() == "xmpp-client");
            CHECK(c.client.alpn() == "xmpp-client");
        }
        SUBCASE("client preferring another protocol still gets xmpp-client")
        {
            auto c = connect(server_ctx, client_context(), {.alpn = {"h2", "xmpp-client"}}, {.direct_tls = true});
            CHECK(c.server.alpn() == "xmpp-client");
        }
        SUBCASE("unknown protocol: the handshake continues without ALPN")
        {
            auto c = connect(server_ctx, client_context(), {.alpn = {"h2"}}, {.direct_tls = true});
            CHECK(c.server.alpn().empty());
        }
        SUBCASE("STARTTLS port ignores ALPN")
        {
            auto c = connect(server_ctx, client_context(), {.alpn = {"xmpp-client"}});
            CHECK(c.server.alpn().empty());
            CHECK(c.client.alpn().empty());
        }
    }
}
