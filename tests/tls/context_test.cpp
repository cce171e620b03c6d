#include "support.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace tern::tls;
using namespace tern::tls::test;

namespace {

std::string server_error(const ServerCertificates& certificates)
{
    const auto context = Context::create_server(certificates);
    REQUIRE_FALSE(context);
    return context.error();
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("tls")
{
    TEST_CASE("server context lists its domains, lower-cased, the default first")
    {
        Certificates certs;
        auto context =
            Context::create_server({"Other.Test", {{"example.org", certs.main}, {"OTHER.test", certs.other}}});
        REQUIRE_MESSAGE(context, (context ? "" : context.error()));
        CHECK((*context)->is_server());
        CHECK((*context)->domains() == std::vector<std::string>{"other.test", "example.org"});
        auto client = Context::create_client();
        REQUIRE(client);
        CHECK_FALSE((*client)->is_server());
        CHECK((*client)->domains().empty());
    }

    TEST_CASE("server context names the file that cannot be read")
    {
        Certificates certs;
        auto missing_cert = certs.main;
        missing_cert.certificate_path = certs.dir.file("absent.pem");
        auto error = server_error({"example.org", {{"example.org", missing_cert}}});
        CHECK(contains(error, "certificate " + missing_cert.certificate_path));
        CHECK(contains(error, "No such file"));

        auto missing_key = certs.main;
        missing_key.key_path = certs.dir.file("absent.key");
        error = server_error({"example.org", {{"example.org", missing_key}}});
        CHECK(contains(error, "private key " + missing_key.key_path));
    }

    TEST_CASE("server context rejects files that hold no certificate or no key")
    {
        Certificates certs;
        const auto junk = certs.dir.file("junk.pem");
        write_text(junk, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
        auto error = server_error({"example.org", {{"example.org", {junk, certs.main.key_path}}}});
        CHECK(contains(error, junk));

        error = server_error({"example.org", {{"example.org", {certs.main.key_path, certs.main.key_path}}}});
        CHECK(contains(error, "no PEM certificate in " + certs.main.key_path));

        error = server_error({"example.org", {{"example.org", {certs.main.certificate_path, junk}}}});
        CHECK(contains(error, "cannot load private key " + junk));
    }

    TEST_CASE("server context rejects a key that does not match the certificate")
    {
        Certificates certs;
        const auto error = server_error(
            {"example.org", {{"example.org", {certs.main.certificate_path, certs.other.key_path}}}});
        CHECK(contains(error, "private key " + certs.other.key_path + " does not match certificate "
                                  + certs.main.certificate_path));
    }

    TEST_CASE("server context needs a default domain with a certificate and distinct names")
    {
        Certificates certs;
        CHECK(contains(server_error({"example.net", {{"example.org", certs.main}}}),
                       "'example.net' has no certificate"));
        CHECK(contains(server_error({"", {}}), "has no certificate"));
        CHECK(contains(server_error({"example.org", {{"example.org", certs.main}, {"EXAMPLE.org", certs.main}}}),
                       "listed twice"));
        CHECK(contains(server_error({"example.org", {{"example.org", certs.main}, {"", certs.other}}}),
                       "invalid domain name"));
    }

    TEST_CASE("client context names a CA file it cannot load")
    {
        TempDir dir;
        const auto context = Context::create_client({.ca_file = dir.file("absent-ca.pem")});
        REQUIRE_FALSE(context);
        CHECK(contains(context.error(), "CA file " + dir.file("absent-ca.pem")));
    }

    TEST_CASE("engines refuse a context of the wrong role")
    {
        Certificates certs;
        auto server = Engine::server(client_context());
        CHECK(server.handshake() == Status::Failed);
        CHECK(contains(server.last_error(), "server context"));
        auto client = Engine::client(server_context(certs));
        CHECK(client.handshake() == Status::Failed);
        CHECK(contains(client.last_error(), "client context"));
    }

    TEST_CASE("connections keep their context after the owner replaced it")
    {
        Certificates certs;
        auto current = server_context(certs);
        auto server = Engine::server(current);
        auto client = Engine::client(client_context(), {.server_name = "other.test"});
        CHECK(client.handshake() == Status::WantRead);
        server.feed(client.take_outgoing());
        CHECK(server.handshake() == Status::WantRead);
        current = server_context(certs);  // a reload: the old context now lives only in `server`
        const auto [cs, ss] = run_handshake(client, server);
        CHECK(cs == Status::Done);
        CHECK(ss == Status::Done);
        CHECK(send(client, server, "after reload") == "after reload");
    }
}
