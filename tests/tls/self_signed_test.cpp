#include "support.hpp"

#include "tls/certificate.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <string>
#include <sys/stat.h>

using namespace tern::tls;
using namespace tern::tls::test;

namespace {

bool have_openssl()
{
    return std::system("command -v openssl >/dev/null 2>&1") == 0;
}

std::string run(const std::string& command)
{
    std::string output;
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::array<char, 4096> buffer{};
    while (const auto n = std::fread(buffer.data(), 1, buffer.size(), pipe))
        output.append(buffer.data(), n);
    CHECK(::pclose(pipe) == 0);
    return output;
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("tls")
{
    TEST_CASE("self-signed certificate loads into a server context, key written with mode 0600")
    {
        TempDir dir;
        const auto cert = dir.file("cert.pem");
        const auto key = dir.file("key.pem");
        REQUIRE(generate_self_signed(cert, key, {"example.org", "upload.example.org"}, test_now));
        CHECK(contains(read_text(cert), "-----BEGIN CERTIFICATE-----"));
        CHECK(contains(read_text(key), "-----BEGIN EC PRIVATE KEY-----"));
        struct stat st{};
        REQUIRE(::stat(key.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        auto context = Context::create_server({"example.org", {{"example.org", {cert, key}}}});
        CHECK_MESSAGE(context, (context ? "" : context.error()));
    }

    TEST_CASE("self-signed generation tightens the mode of an existing key file")
    {
        TempDir dir;
        const auto key = dir.file("key.pem");
        write_text(key, "old");
        REQUIRE(::chmod(key.c_str(), 0644) == 0);
        REQUIRE(generate_self_signed(dir.file("cert.pem"), key, {"example.org"}, test_now));
        struct stat st{};
        REQUIRE(::stat(key.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        CHECK(contains(read_text(key), "EC PRIVATE KEY"));
    }

    TEST_CASE("self-signed certificates get distinct keys and serials")
    {
        TempDir dir;
        REQUIRE(generate_self_signed(dir.file("a.pem"), dir.file("a.key"), {"example.org"}, test_now));
        REQUIRE(generate_self_signed(dir.file("b.pem"), dir.file("b.key"), {"example.org"}, test_now));
        CHECK(read_text(dir.file("a.key")) != read_text(dir.file("b.key")));
        CHECK(first_certificate_der(read_text(dir.file("a.pem")))
              != first_certificate_der(read_text(dir.file("b.pem"))));
        if (have_openssl())
            CHECK(run("openssl x509 -noout -serial -in " + dir.file("a.pem"))
                  != run("openssl x509 -noout -serial -in " + dir.file("b.pem")));
    }

    TEST_CASE("self-signed certificate has the CN, SANs, validity and algorithms asked for (openssl)")
    {
        if (!have_openssl()) {
            MESSAGE("openssl CLI not installed: skipped");
            return;
        }
        TempDir dir;
        const auto cert = dir.file("cert.pem");
        const std::vector<std::string> domains{"example.org", "conference.example.org", "*.example.org"};
        REQUIRE(generate_self_signed(cert, dir.file("key.pem"), domains, test_now));
        const auto text = run("openssl x509 -noout -text -in " + cert);
        CHECK(contains(text, "Subject: CN = example.org"));
        CHECK(contains(text, "Issuer: CN = example.org"));
        CHECK(contains(text, "DNS:example.org, DNS:conference.example.org, DNS:*.example.org"));
        CHECK(contains(text, "Signature Algorithm: ecdsa-with-SHA256"));
        CHECK(contains(text, "ASN1 OID: prime256v1"));
        CHECK(contains(text, "Not Before: Nov 14 21:13:20 2023 GMT"));  // now - 1 hour
        CHECK(contains(text, "Not After : Nov 13 22:13:20 2024 GMT"));  // now + 365 days
        const auto key_check = run("openssl ec -check -noout -in " + dir.file("key.pem") + " 2>&1");
        CHECK(contains(key_check, "valid"));
    }

    TEST_CASE("self-signed certificate uses GeneralizedTime from 2050 on (openssl)")
    {
        if (!have_openssl()) {
            MESSAGE("openssl CLI not installed: skipped");
            return;
        }
        TempDir dir;
        const auto cert = dir.file("cert.pem");
        REQUIRE(generate_self_signed(cert, dir.file("key.pem"), {"example.org"}, 2524608000));  // 2050-01-01
        const auto dates = run("openssl x509 -noout -dates -in " + cert);
        CHECK(contains(dates, "notBefore=Dec 31 23:00:00 2049 GMT"));
        CHECK(contains(dates, "notAfter=Jan  1 00:00:00 2051 GMT"));
    }

    TEST_CASE("self-signed generation rejects bad input and names the path it cannot write")
    {
        TempDir dir;
        auto error = [&](const std::vector<std::string>& domains, const std::string& key_path) {
            const auto result = generate_self_signed(dir.file("c.pem"), key_path, domains, test_now);
            REQUIRE_FALSE(result);
            return result.error();
        };
        CHECK(contains(error({}, dir.file("k.pem")), "at least one domain"));
        CHECK(contains(error({"example.org", "bad domain"}, dir.file("k.pem")), "'bad domain'"));
        CHECK(contains(error({""}, dir.file("k.pem")), "''"));
        CHECK(contains(error({std::string(64, 'a') + ".org"}, dir.file("k.pem")), "common name"));
        const auto unwritable = dir.file("missing-dir/k.pem");
        CHECK(contains(error({"example.org"}, unwritable), "cannot create " + unwritable));
    }
}
