// Stream-level behaviour of a real ternd (RFC 6120 §4): headers, features, and the stream errors.
#include <doctest/doctest.h>

#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

TEST_SUITE("integration")
{
    TEST_CASE("stream: header reply and STARTTLS required before SASL")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.starttls_port());
        xml::Stanza features = client.open_stream("localhost");
        const auto& header = client.stream_header();
        CHECK(header.attr("from") == "localhost");
        CHECK(header.attr("version") == "1.0");
        CHECK(header.attr("id").size() >= 16);
        CHECK(features.root().child("starttls", xmpp::ns::tls).child("required", xmpp::ns::tls));
        CHECK_FALSE(features.root().child("mechanisms", xmpp::ns::sasl));
    }

    TEST_CASE("stream: each connection gets a unique stream id")
    {
        TernProcess server;
        server.start();
        XmppClient a(server.starttls_port());
        XmppClient b(server.starttls_port());
        a.open_stream();
        b.open_stream();
        CHECK(a.stream_header().attr("id") != b.stream_header().attr("id"));
    }

    TEST_CASE("stream: unknown domain gets host-unknown")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.starttls_port());
        client.send("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                    "version='1.0' to='elsewhere.example'>");
        CHECK(client.expect_stream_error() == "host-unknown");
        CHECK(client.wait_closed());
    }

    TEST_CASE("stream: wrong content namespace gets invalid-namespace")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.starttls_port());
        client.send("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
                    "version='1.0' to='localhost'>");
        CHECK(client.expect_stream_error() == "invalid-namespace");
    }

    TEST_CASE("stream: wrong stream namespace gets invalid-namespace")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.starttls_port());
        client.send("<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' version='1.0' to='localhost'>");
        CHECK(client.expect_stream_error() == "invalid-namespace");
    }

    TEST_CASE("stream: a pre-1.0 stream gets unsupported-version")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.starttls_port());
        client.send("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost'>");
        CHECK(client.expect_stream_error() == "unsupported-version");
    }

    TEST_CASE("stream: a higher minor version is answered with 1.0")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.starttls_port());
        client.send("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                    "version='1.7' to='localhost'>");
        REQUIRE(client.next().kind == xml::EventKind::StreamOpen);
        CHECK(client.stream_header().attr("version") == "1.0");
    }

    TEST_CASE("stream: malformed XML gets not-well-formed")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.starttls_port());
        client.open_stream();
        client.send("<message><body>unclosed</message>");
        CHECK(client.expect_stream_error() == "not-well-formed");
    }

    TEST_CASE("stream: comments, DOCTYPE and undefined entities get restricted-xml")
    {
        TernProcess server;
        server.start();
        for (const std::string bad : {"<!-- hi -->", "<!DOCTYPE lol [<!ENTITY a 'b'>]>", "<message>&lol;</message>"}) {
            CAPTURE(bad);
            XmppClient client(server.starttls_port());
            client.open_stream();
            client.send(bad);
            CHECK(client.expect_stream_error() == "restricted-xml");
        }
    }

    TEST_CASE("stream: a stanza over the size limit gets policy-violation")
    {
        TernProcess server;
        server.set("limits", "max_stanza_bytes", "4096");
        server.start();
        XmppClient client(server.starttls_port());
        client.open_stream();
        client.send("<message><body>" + std::string(5000, 'a') + "</body></message>");
        CHECK(client.expect_stream_error() == "policy-violation");
    }

    TEST_CASE("stream: a stanza before authentication gets not-authorized")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.starttls_port());
        client.open_stream();
        client.send("<message to='alice@localhost'><body>hi</body></message>");
        CHECK(client.expect_stream_error() == "not-authorized");
    }

    TEST_CASE("stream: an unknown top-level element gets unsupported-stanza-type")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.starttls_port());
        client.open_stream();
        client.send("<foo xmlns='urn:example:foo'/>");
        CHECK(client.expect_stream_error() == "unsupported-stanza-type");
    }

    TEST_CASE("stream: the client's closing tag is answered and the connection closed")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.starttls_port());
        client.open_stream();
        client.send("</stream:stream>");
        CHECK(client.next().kind == xml::EventKind::StreamClose);
        CHECK(client.wait_closed());
    }

    TEST_CASE("stream: plaintext pipelined after <starttls/> is refused")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.starttls_port());
        client.open_stream();
        client.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><iq type='get' id='x'/>");
        CHECK(client.expect_stream_error() == "policy-violation");
    }

    TEST_CASE("stream: no authentication within auth_timeout gets connection-timeout")
    {
        TernProcess server;
        server.set("limits", "auth_timeout", "1");
        server.start();
        XmppClient client(server.starttls_port());
        client.open_stream();
        CHECK(client.expect_stream_error(5s) == "connection-timeout");
    }

    TEST_CASE("stream: direct TLS negotiates ALPN xmpp-client and offers SASL at once")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.direct_tls_port());
        client.handshake(TlsOptions::with_alpn("xmpp-client"));
        CHECK(client.tls()->alpn() == "xmpp-client");
        xml::Stanza features = client.open_stream();
        CHECK_FALSE(features.root().child("starttls", xmpp::ns::tls));
        CHECK(features.root().child("mechanisms", xmpp::ns::sasl));
    }

    TEST_CASE("stream: TLS 1.2 works and channel-binding types are advertised")
    {
        TernProcess server;
        server.start();
        XmppClient client(server.starttls_port());
        client.open_stream();
        xml::Stanza features = client.starttls(TlsOptions::version(tls::Version::Tls1_2));
        CHECK(client.tls()->protocol_version() == "TLSv1.2");
        const xml::Element cb = features.root().child("sasl-channel-binding", xmpp::ns::sasl_cb);
        REQUIRE(cb);
        std::vector<std::string> types;
        for (xml::Element e : cb.children()) types.emplace_back(e.attr("type"));
        CHECK(std::find(types.begin(), types.end(), "tls-server-end-point") != types.end());
        CHECK(std::find(types.begin(), types.end(), "tls-unique") != types.end());
    }
}
