// Channel binding on a real ternd (issue 12, items 8 and 10): tls-unique only where it is safe (TLS 1.2 with
// the extended master secret, checked with an independent client, `openssl s_client`), the SCRAM "y"
// flag refused only where it can mean a downgrade, and XEP-0474's d= attribute in the server-first message.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "crypto/crypto.hpp"
#include "tern_process.hpp"
#include "xmpp/ns.hpp"
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

std::vector<std::string> children_text(const xml::Stanza& features, std::string_view name, std::string_view ns)
{
    std::vector<std::string> out;
    for (xml::Element e : features.root().child(name, ns).children()) out.emplace_back(e.text());
    return out;
}

std::vector<std::string> binding_types(const xml::Stanza& features)
{
    std::vector<std::string> out;
    for (xml::Element e : features.root().child("sasl-channel-binding", xmpp::ns::sasl_cb).children())
        out.emplace_back(e.attr("type"));
    return out;
}

// XEP-0474 (0.4): base64(H(mechanisms sorted, joined by 0x1E [0x1F channel-binding types sorted, joined by 0x1E])).
std::string ssdp(crypto::Hash hash, std::vector<std::string> mechanisms, std::vector<std::string> bindings)
{
    std::sort(mechanisms.begin(), mechanisms.end());
    std::sort(bindings.begin(), bindings.end());
    std::string input;
    for (std::size_t i = 0; i < mechanisms.size(); ++i) input += (i ? "\x1e" : "") + mechanisms[i];
    for (std::size_t i = 0; i < bindings.size(); ++i) input += (i ? "\x1e" : "\x1f") + bindings[i];
    return crypto::base64_encode(crypto::digest(hash, input));
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

    TEST_CASE("channel binding: the SCRAM y flag is accepted on TLS 1.3, where tls-unique is undefined")
    {
        TernProcess server;
        server.add_user("alice@localhost", "wonderland");
        server.start();
        for (const char* mechanism : {"SCRAM-SHA-1", "SCRAM-SHA-256"}) {
            CAPTURE(mechanism);
            XmppClient client(server.starttls_port());
            client.open_stream();
            const xml::Stanza features = client.starttls(TlsOptions::version(tls::Version::Tls1_3));
            REQUIRE(std::ranges::count(children_text(features, "mechanisms", xmpp::ns::sasl), "SCRAM-SHA-256-PLUS") == 1);
            CHECK(client.scram(mechanism, "alice", "wonderland", "y") == "success");
        }
    }

    TEST_CASE("channel binding: the SCRAM y flag is refused as a downgrade where tls-unique is offered")
    {
        TernProcess server;
        server.add_user("alice@localhost", "wonderland");
        server.start();
        XmppClient client(server.starttls_port());
        client.open_stream();
        const xml::Stanza features = client.starttls(TlsOptions::version(tls::Version::Tls1_2));
        REQUIRE(std::ranges::count(binding_types(features), "tls-unique") == 1);
        CHECK(client.scram("SCRAM-SHA-256", "alice", "wonderland", "y") == "not-authorized");
    }

    TEST_CASE("channel binding: strict_channel_binding_flag refuses the y flag whenever -PLUS is offered")
    {
        TernProcess server;
        server.set("sasl", "strict_channel_binding_flag", "true");
        server.add_user("alice@localhost", "wonderland");
        server.start();
        XmppClient client(server.starttls_port());
        client.open_stream();
        client.starttls(TlsOptions::version(tls::Version::Tls1_3));
        CHECK(client.scram("SCRAM-SHA-256", "alice", "wonderland", "y") == "not-authorized");
    }

    TEST_CASE("channel binding: the server-first message carries XEP-0474's hash of mechanisms and binding types")
    {
        TernProcess server;
        server.add_user("alice@localhost", "wonderland");
        server.start();
        for (const tls::Version version : {tls::Version::Tls1_3, tls::Version::Tls1_2}) {
            for (const char* mechanism : {"SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"}) {
                CAPTURE(mechanism);
                XmppClient client(server.starttls_port());
                client.open_stream();
                const xml::Stanza features = client.starttls(TlsOptions::version(version));
                const auto mechanisms = children_text(features, "mechanisms", xmpp::ns::sasl);
                const auto bindings = binding_types(features);
                const std::string first = client.scram_server_first(mechanism, "alice");
                const crypto::Hash hash = std::string_view(mechanism).starts_with("SCRAM-SHA-256") ? crypto::Hash::Sha256
                                                                                                   : crypto::Hash::Sha1;
                CHECK(contains(first, ",d=" + ssdp(hash, mechanisms, bindings)));
            }
        }
    }
}
