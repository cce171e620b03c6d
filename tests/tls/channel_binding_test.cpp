#include "support.hpp"

#include "tls/memory_io.hpp"
#include "tls/wolf.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace tern::tls;
using namespace tern::tls::test;

namespace {

using Types = std::vector<std::string>;

void check_equal_on_both_sides(const Connection& c, const Types& types)
{
    for (const auto& type : types) {
        CAPTURE(type);
        const auto client = c.client.channel_binding(type);
        const auto server = c.server.channel_binding(type);
        REQUIRE(client);
        REQUIRE(server);
        CHECK(*client == *server);
    }
}

// A client written directly against wolfSSL, for peers the Engine would never be: TLS 1.2 without extended
// master secret.
class RawClient {
public:
    explicit RawClient(WOLFSSL_METHOD* method) : ctx_(wolfSSL_CTX_new(method))
    {
        REQUIRE(ctx_ != nullptr);
        wolfSSL_CTX_set_verify(ctx_, WOLFSSL_VERIFY_NONE, nullptr);
        install_memory_io(ctx_);
        ssl_ = wolfSSL_new(ctx_);
        REQUIRE(ssl_ != nullptr);
        attach_memory_io(ssl_, &io_);
    }
    ~RawClient()
    {
        wolfSSL_free(ssl_);
        wolfSSL_CTX_free(ctx_);
    }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    WOLFSSL* ssl() { return ssl_; }

    // Runs the handshake against `server`; true when both sides completed it.
    bool handshake_with(Engine& server)
    {
        Status s = Status::WantRead;
        int rc = WOLFSSL_FAILURE;
        for (int round = 0; round < 16; ++round) {
            rc = wolfSSL_connect(ssl_);
            if (!io_.out.empty())
                server.feed(std::exchange(io_.out, std::string()));
            if (s == Status::WantRead)
                s = server.handshake();
            if (server.has_outgoing())
                io_.in += server.take_outgoing();
            if (rc == WOLFSSL_SUCCESS && s == Status::Done)
                return true;
            if (s == Status::Failed)
                return false;
        }
        return false;
    }

private:
    WOLFSSL_CTX* ctx_;
    WOLFSSL* ssl_ = nullptr;
    MemoryIo io_;
};

// A ClientHello as a TLS 1.1 client sends it: version 3.2, CBC suites, no supported_versions extension.
std::string tls11_client_hello()
{
    auto u16 = [](std::size_t v) { return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; };
    std::string body = "\x03\x02" + std::string(32, 'r');  // client_version 1.1, random
    body += std::string(1, '\0');                          // no session id
    body += u16(4) + std::string("\xc0\x09\x00\x2f", 4);  // ECDHE-ECDSA-AES128-SHA, AES128-SHA
    body += std::string("\x01\x00", 2);                   // compression: null
    const std::string message = std::string(1, '\x01') + '\0' + u16(body.size()) + body;
    return std::string("\x16\x03\x02", 3) + u16(message.size()) + message;
}

}  // namespace

TEST_SUITE("tls")
{
    TEST_CASE("TLS 1.3 offers tls-exporter and tls-server-end-point, equal on both sides")
    {
        Certificates certs;
        auto c = connect(server_context(certs), client_context());
        const Types expected{"tls-exporter", "tls-server-end-point"};
        CHECK(c.server.channel_binding_types() == expected);
        CHECK(c.client.channel_binding_types() == expected);
        check_equal_on_both_sides(c, expected);
        CHECK(c.server.channel_binding("tls-exporter")->size() == 32);
        CHECK(c.server.channel_binding("tls-server-end-point")->size() == 32);  // SHA-256 (ecdsa-with-SHA256)
        CHECK_FALSE(c.server.channel_binding("tls-unique"));
        CHECK_FALSE(c.server.channel_binding("tls-something"));
    }

    TEST_CASE("TLS 1.2 with extended master secret offers all three bindings, equal on both sides")
    {
        Certificates certs;
        auto c = connect(server_context(certs), client_context({.max_version = Version::Tls1_2}));
        const Types expected{"tls-exporter", "tls-unique", "tls-server-end-point"};
        CHECK(c.server.channel_binding_types() == expected);
        CHECK(c.client.channel_binding_types() == expected);
        check_equal_on_both_sides(c, expected);
        CHECK(c.server.channel_binding("tls-unique")->size() == 12);  // a TLS 1.2 Finished verify_data
    }

    TEST_CASE("channel bindings differ between connections, except tls-server-end-point")
    {
        Certificates certs;
        auto server_ctx = server_context(certs);
        for (auto version : {Version::Tls1_3, Version::Tls1_2}) {
            auto client_ctx = client_context({.max_version = version});
            auto first = connect(server_ctx, client_ctx);
            auto second = connect(server_ctx, client_ctx);
            CHECK(first.server.channel_binding("tls-exporter") != second.server.channel_binding("tls-exporter"));
            CHECK(first.server.channel_binding("tls-server-end-point")
                  == second.server.channel_binding("tls-server-end-point"));
            if (version == Version::Tls1_2)
                CHECK(first.server.channel_binding("tls-unique") != second.server.channel_binding("tls-unique"));
        }
    }

    TEST_CASE("no channel binding before the handshake is complete")
    {
        auto client = Engine::client(client_context());
        CHECK(client.handshake() == Status::WantRead);
        CHECK(client.channel_binding_types().empty());
        CHECK_FALSE(client.channel_binding("tls-exporter"));
    }

    TEST_CASE("resumed TLS 1.2 session: tls-unique is the server's Finished and still equal on both sides")
    {
        Certificates certs;
        auto server_ctx = server_context(certs);
        auto client_ctx = client_context({.max_version = Version::Tls1_2});
        auto first = connect(server_ctx, client_ctx, {.server_name = "example.org"});
        CHECK_FALSE(first.client.resumed());
        auto session = first.client.session();
        REQUIRE(session);
        auto second = connect(server_ctx, client_ctx, {.server_name = "example.org", .resume = session});
        REQUIRE(second.client.resumed());
        CHECK(second.server.resumed());
        check_equal_on_both_sides(second, {"tls-exporter", "tls-unique", "tls-server-end-point"});
        CHECK(first.server.channel_binding("tls-unique") != second.server.channel_binding("tls-unique"));
        CHECK(first.server.channel_binding("tls-exporter") != second.server.channel_binding("tls-exporter"));
    }

    TEST_CASE("resumed TLS 1.3 session keeps tls-exporter equal on both sides")
    {
        Certificates certs;
        auto server_ctx = server_context(certs);
        auto client_ctx = client_context();
        auto first = connect(server_ctx, client_ctx, {.server_name = "example.org"});
        auto session = first.client.session();
        REQUIRE(session);
        auto second = connect(server_ctx, client_ctx, {.server_name = "example.org", .resume = session});
        REQUIRE(second.client.resumed());
        CHECK(second.server.resumed());
        check_equal_on_both_sides(second, {"tls-exporter", "tls-server-end-point"});
        CHECK(first.server.channel_binding("tls-exporter") != second.server.channel_binding("tls-exporter"));
    }

    TEST_CASE("TLS 1.2 without extended master secret offers neither tls-exporter nor tls-unique")
    {
        // RFC 9266 §4.1 for the exporter; for tls-unique the triple handshake attack (RFC 7627 §1): without the
        // extended master secret two connections can end with the same Finished messages.
        Certificates certs;
        auto server = Engine::server(server_context(certs));
        RawClient client(wolfTLSv1_2_client_method());
        REQUIRE(wolfSSL_DisableExtendedMasterSecret(client.ssl()) == WOLFSSL_SUCCESS);
        REQUIRE(client.handshake_with(server));
        CHECK(server.channel_binding_types() == Types{"tls-server-end-point"});
        CHECK_FALSE(server.channel_binding("tls-exporter"));
        CHECK_FALSE(server.channel_binding("tls-unique"));
    }

    TEST_CASE("both engines agree on the extended master secret: neither side binds to tls-unique without it")
    {
        Certificates certs;
        auto c = connect(server_context(certs), client_context({.max_version = Version::Tls1_2}),
                         {.extended_master_secret = false});
        CHECK(c.client.protocol_version() == "TLSv1.2");
        CHECK(c.server.channel_binding_types() == Types{"tls-server-end-point"});
        CHECK(c.client.channel_binding_types() == Types{"tls-server-end-point"});
        check_equal_on_both_sides(c, {"tls-server-end-point"});
    }

    // Hand-built, because a lean wolfSSL (NO_OLD_TLS) cannot even act as a TLS 1.1 client.
    TEST_CASE("a TLS 1.1 client is refused")
    {
        Certificates certs;
        auto server = Engine::server(server_context(certs));
        server.feed(tls11_client_hello());
        CHECK(server.handshake() == Status::Failed);
        CHECK(server.last_error().find("version") != std::string::npos);
    }
}
