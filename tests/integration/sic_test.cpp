// XEP-0279 Server IP Check on a real ternd: the client's own address and port over IPv4 and IPv6 loopback,
// through PROXY protocol v1 and v2 headers, and forbidden for another account's address.
#include <doctest/doctest.h>

#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

struct Address {
    std::string ip;
    std::string port;
    std::string error;
};

Address sic(XmppClient& client, const std::string& to = "localhost", std::string_view ns = xmpp::ns::sic_1)
{
    client.send("<iq type='get' id='sic' to='" + to + "'><address xmlns='" + std::string(ns) + "'/></iq>");
    const xml::Stanza reply = client.next_stanza();
    REQUIRE(reply.id() == "sic");
    if (reply.type() == "error")
        return {"", "", std::string(reply.root().child("error", xmpp::ns::client).first_child_element().name())};
    const xml::Element address = reply.root().child("address", ns);
    REQUIRE(address);
    return {std::string(address.child("ip", ns).text()), std::string(address.child("port", ns).text()), ""};
}

struct Fixture {
    TernProcess server;

    explicit Fixture(bool proxy_protocol = false, bool ipv6 = false)
    {
        if (proxy_protocol) {
            server.set("c2s", "proxy_protocol", "true");
            server.set("c2s", "proxy_from", "[\"127.0.0.1\", \"::1\"]");
        }
        if (ipv6) server.listen_ipv6();
        server.add_user("alice@localhost", "wonderland");
        server.add_user("bob@localhost", "builder");
        server.start();
    }
};

// A PROXY protocol v2 header for TCP over IPv6 (as HAProxy sends it with send-proxy-v2).
std::string proxy_v2_ipv6(const unsigned char (&source)[16], std::uint16_t source_port)
{
    std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
    h += static_cast<char>(0x21);  // version 2, PROXY
    h += static_cast<char>(0x21);  // AF_INET6, STREAM
    h += '\0';
    h += static_cast<char>(36);
    h.append(reinterpret_cast<const char*>(source), 16);
    const unsigned char destination[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    h.append(reinterpret_cast<const char*>(destination), 16);
    h += static_cast<char>(source_port >> 8);
    h += static_cast<char>(source_port & 0xff);
    h += static_cast<char>(5222 >> 8);
    h += static_cast<char>(5222 & 0xff);
    return h;
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("sic: the client's IPv4 address and port, at the server and at its own bare JID")
    {
        Fixture f;
        XmppClient client(f.server.starttls_port());
        client.login("alice", "wonderland", "phone");
        const std::string own_port = std::to_string(client.local_port());
        const Address at_server = sic(client);
        CHECK(at_server.ip == "127.0.0.1");
        CHECK(at_server.port == own_port);
        const Address at_account = sic(client, "alice@localhost");
        CHECK(at_account.ip == "127.0.0.1");
        CHECK(at_account.port == own_port);
        const Address v0 = sic(client, "localhost", xmpp::ns::sic_0);
        CHECK(v0.ip == "127.0.0.1");
        CHECK(v0.port == own_port);
    }

    TEST_CASE("sic: the client's IPv6 address over [::1]")
    {
        Fixture f(false, true);
        XmppClient client(f.server.starttls_port_v6(), "::1");
        client.login("alice", "wonderland", "phone");
        const Address a = sic(client);
        CHECK(a.ip == "::1");
        CHECK(a.port == std::to_string(client.local_port()));
    }

    TEST_CASE("sic: version 0 as published, <ip xmlns='urn:xmpp:sic:0'/> answered with the address as text")
    {
        Fixture f;
        XmppClient client(f.server.starttls_port());
        client.login("alice", "wonderland", "phone");
        for (const char* to : {"localhost", "alice@localhost"}) {
            CAPTURE(to);
            client.send(std::string("<iq type='get' id='ip0' to='") + to + "'><ip xmlns='urn:xmpp:sic:0'/></iq>");
            const xml::Stanza reply = client.next_stanza();
            CHECK(reply.id() == "ip0");
            CHECK(reply.type() == "result");
            const xml::Element ip = reply.root().child("ip", xmpp::ns::sic_0);
            REQUIRE(ip);
            CHECK(ip.text() == "127.0.0.1");
            CHECK_FALSE(ip.first_child_element());
        }
        client.send("<iq type='get' id='ip1' to='bob@localhost'><ip xmlns='urn:xmpp:sic:0'/></iq>");
        const xml::Stanza other = client.next_stanza();
        CHECK(other.type() == "error");
        CHECK(other.root().child("error", xmpp::ns::client).child("forbidden", xmpp::ns::stanzas));
    }

    TEST_CASE("sic: asking about another account's bare JID is forbidden")
    {
        Fixture f;
        XmppClient alice(f.server.starttls_port());
        alice.login("alice", "wonderland", "phone");
        XmppClient bob(f.server.starttls_port());
        bob.login("bob", "builder", "laptop");
        for (const std::string_view ns : {xmpp::ns::sic_1, xmpp::ns::sic_0}) {
            CAPTURE(ns);
            const Address other = sic(alice, "bob@localhost", ns);
            CHECK(other.error == "forbidden");
            CHECK(other.ip.empty());
        }
        // Another account's full JID is that client's business: the IQ goes to bob, who does not answer here.
        alice.send("<iq type='get' id='full' to='bob@localhost/laptop'><address xmlns='urn:xmpp:sic:1'/></iq>");
        const xml::Stanza delivered = bob.next_stanza();
        CHECK(delivered.id() == "full");
        CHECK(delivered.attr("from") == "alice@localhost/phone");
    }

    TEST_CASE("sic: behind a PROXY protocol v1 balancer, the address and port from the header")
    {
        Fixture f(true);
        XmppClient client(f.server.starttls_port());
        client.send("PROXY TCP4 203.0.113.7 192.0.2.1 51234 5222\r\n");
        client.login("alice", "wonderland", "phone");
        const Address a = sic(client);
        CHECK(a.ip == "203.0.113.7");
        CHECK(a.port == "51234");
    }

    TEST_CASE("sic: behind a PROXY protocol v2 balancer, an IPv6 source from the header")
    {
        Fixture f(true);
        XmppClient client(f.server.starttls_port());
        const unsigned char source[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
        client.send(proxy_v2_ipv6(source, 4242));
        client.login("alice", "wonderland", "phone");
        const Address a = sic(client);
        CHECK(a.ip == "2001:db8::7");
        CHECK(a.port == "4242");
    }
}
