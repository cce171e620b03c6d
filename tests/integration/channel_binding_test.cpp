// Channel binding on a real ternd (issue 12, item 8): tls-unique only where it is safe (TLS 1.2 with the
// extended master secret), checked with an independent client, `openssl s_client`.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "tern_process.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

// openssl s_client over STARTTLS, TLS 1.2, with or without the extended master secret (OpenSSL 3.0's s_client
// has no -no_ems: the option is switched off through a configuration file, SSL_CONF "Options"). Sends a
// stream header once TLS is up and returns everything s_client printed: the session summary and the server's
// features (the server closes the stream at auth_timeout, which ends s_client).
std::string openssl_tls12_features(TernProcess& server, bool extended_master_secret)
{
    const std::string conf = (server.dir() / "openssl-no-ems.cnf").string();
    std::ofstream(conf) << "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = tls\n"
                           "[tls]\nOptions = -ExtendedMasterSecret\n";
    std::vector<std::string> argv{"/usr/bin/env"};
    if (!extended_master_secret) argv.push_back("OPENSSL_CONF=" + conf);
    for (std::string arg : {std::string(OPENSSL_PATH), std::string("s_client"), std::string("-connect"),
                            "127.0.0.1:" + std::to_string(server.starttls_port()), std::string("-starttls"),
                            std::string("xmpp"), std::string("-xmpphost"), std::string("localhost"),
                            std::string("-tls1_2"), std::string("-ign_eof")})
        argv.push_back(std::move(arg));
    const RunResult r = run_program(argv,
                                    "<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
                                    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
                                    std::chrono::seconds(20));
    return r.output;
}

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("channel binding: no tls-unique on TLS 1.2 without the extended master secret (openssl s_client)")
    {
        TernProcess server;
        server.set("limits", "auth_timeout", "2");
        server.start();

        const std::string without = openssl_tls12_features(server, false);
        REQUIRE_MESSAGE(contains(without, "Extended master secret: no"), without);
        REQUIRE_MESSAGE(contains(without, "SCRAM-SHA-256"), without);
        CHECK_MESSAGE(!contains(without, "tls-unique"), without);
        CHECK_MESSAGE(!contains(without, "tls-exporter"), without);
        // What stays is the certificate's binding, so -PLUS is still offered, with that type only.
        CHECK_MESSAGE(contains(without, "SCRAM-SHA-256-PLUS"), without);
        CHECK_MESSAGE(contains(without, "tls-server-end-point"), without);

        const std::string with = openssl_tls12_features(server, true);
        REQUIRE_MESSAGE(contains(with, "Extended master secret: yes"), with);
        CHECK_MESSAGE(contains(with, "tls-unique"), with);
        CHECK_MESSAGE(contains(with, "tls-exporter"), with);
    }
}
