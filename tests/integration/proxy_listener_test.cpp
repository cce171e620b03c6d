// The PROXY protocol per listener on a real ternd (issue 12, item 5): only the addresses in proxy_from may
// send the header, a trusted proxy must send it, other clients on that listener are served as themselves,
// and an IPv4 client address counts the same whether a header names it as IPv4 or IPv4-mapped IPv6.
#include <doctest/doctest.h>

#include <string>

#include "tern_process.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

// A second listener on the port TernProcess reserved for direct TLS: STARTTLS, PROXY protocol from
// 127.0.0.5 only. The [c2s] listener (starttls_port) takes no PROXY header at all.
void add_proxied_listener(TernProcess& server)
{
    server.set("c2s", "direct_tls", "[]");
    server.set_extra_toml("[[c2s.listener]]\naddress = \"127.0.0.1:" + std::to_string(server.direct_tls_port()) +
                          "\"\nproxy_protocol = true\nproxy_from = [\"127.0.0.5/32\"]\n");
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("proxy listener: the header is taken from proxy_from only, and required from it")
    {
        TernProcess server;
        add_proxied_listener(server);
        server.add_user("alice@localhost", "wonderland");
        server.start();
        const std::uint16_t proxied = server.direct_tls_port();

        // The balancer's connection names the client; its login is that client's.
        auto balancer = XmppClient::from_address(proxied, "127.0.0.5");
        balancer->send("PROXY TCP4 203.0.113.7 192.0.2.1 40000 5222\r\n");
        CHECK(balancer->login("alice", "wonderland", "via-proxy") == "alice@localhost/via-proxy");
        CHECK(server.wait_for_log("ip=203.0.113.7"));

        // Anyone else sending a header on that listener is refused, whatever address it claims.
        auto spoofer = XmppClient::from_address(proxied, "127.0.0.6");
        spoofer->send("PROXY TCP4 198.51.100.99 192.0.2.1 40000 5222\r\n");
        CHECK(spoofer->wait_closed());
        CHECK(server.wait_for_log("event=c2s.proxy_header_refused"));
        CHECK(server.log().find("ip=198.51.100.99") == std::string::npos);
        // ... and a v2 header too.
        auto spoofer_v2 = XmppClient::from_address(proxied, "127.0.0.6");
        spoofer_v2->send(std::string("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xc6\x33\x64\x62\xc0\x00\x02\x01\x9c\x40\x14\x66", 28));
        CHECK(spoofer_v2->wait_closed());
        CHECK(server.log().find("ip=198.51.100.98") == std::string::npos);

        // A direct client on that listener is served under its own address.
        auto direct = XmppClient::from_address(proxied, "127.0.0.6");
        CHECK(direct->login("alice", "wonderland", "direct") == "alice@localhost/direct");

        // The trusted proxy without a header is closed, as before.
        auto bare = XmppClient::from_address(proxied, "127.0.0.5");
        bare->send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                   "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='localhost'>");
        CHECK(bare->wait_closed());
        CHECK(server.wait_for_log("event=c2s.proxy_header_invalid"));

        // The listener without proxy_protocol takes no header from anyone, the proxy's address included.
        auto elsewhere = XmppClient::from_address(server.starttls_port(), "127.0.0.5");
        elsewhere->send("PROXY TCP4 198.51.100.97 192.0.2.1 40000 5222\r\n");
        CHECK(elsewhere->wait_closed());
        CHECK(server.log().find("ip=198.51.100.97") == std::string::npos);
    }

    TEST_CASE("proxy listener: an IPv4 client named as IPv4-mapped IPv6 is the same address")
    {
        TernProcess server;
        add_proxied_listener(server);
        server.set("limits", "max_unauthenticated_per_ip", "1");
        server.start();
        const std::uint16_t proxied = server.direct_tls_port();

        auto first = XmppClient::from_address(proxied, "127.0.0.5");
        first->send("PROXY TCP4 203.0.113.9 192.0.2.1 40000 5222\r\n");
        CHECK(first->open_stream().name() == "features");
        // The same client through a dual-stack balancer: counted under 203.0.113.9, so over the limit.
        auto mapped = XmppClient::from_address(proxied, "127.0.0.5");
        mapped->send("PROXY TCP6 ::ffff:203.0.113.9 ::ffff:192.0.2.1 40001 5222\r\n");
        CHECK(mapped->wait_closed());
        CHECK(server.wait_for_log("event=c2s.refused conn="));
        CHECK(server.log().find("ip=::ffff:203.0.113.9") == std::string::npos);
        // Another client is admitted.
        auto other = XmppClient::from_address(proxied, "127.0.0.5");
        other->send("PROXY TCP6 2001:db8::1 2001:db8::2 40002 5222\r\n");
        CHECK(other->open_stream().name() == "features");
    }
}
