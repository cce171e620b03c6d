// Per-connection and per-address protections on a real ternd: PROXY protocol, connection limits, outboxes.
#include <doctest/doctest.h>

#include <thread>

#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

TEST_SUITE("integration")
{
    TEST_CASE("limits: behind a PROXY-protocol balancer the client's address is used")
    {
        TernProcess server;
        server.set("c2s", "proxy_protocol", "true");
        server.set("c2s", "proxy_from", "[\"127.0.0.1\"]");
        server.start();
        XmppClient proxied(server.starttls_port());
        proxied.send("PROXY TCP4 203.0.113.7 127.0.0.1 40000 5222\r\n");
        proxied.open_stream();
        CHECK(server.wait_for_log("ip=203.0.113.7"));

        XmppClient direct(server.starttls_port());
        direct.send("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='localhost'>");
        CHECK(direct.wait_closed());
        CHECK(server.wait_for_log("event=c2s.proxy_header_invalid"));
    }

    TEST_CASE("limits: connections beyond max_connections_per_ip are refused, others unaffected")
    {
        TernProcess server;
        server.set("c2s", "proxy_protocol", "true");
        server.set("c2s", "proxy_from", "[\"127.0.0.1\"]");
        server.set("limits", "max_connections_per_ip", "2");
        server.start();
        std::vector<std::unique_ptr<XmppClient>> clients;
        for (int i = 0; i < 2; ++i) {
            clients.push_back(std::make_unique<XmppClient>(server.starttls_port()));
            clients.back()->send("PROXY TCP4 198.51.100.1 127.0.0.1 1000 5222\r\n");
            clients.back()->open_stream();
        }
        XmppClient third(server.starttls_port());
        third.send("PROXY TCP4 198.51.100.1 127.0.0.1 1002 5222\r\n");
        CHECK(third.wait_closed());
        XmppClient other(server.starttls_port());
        other.send("PROXY TCP4 198.51.100.2 127.0.0.1 1003 5222\r\n");
        CHECK(other.open_stream().name() == "features");

        clients.pop_back();  // one of the first two leaves: the address may connect again
        bool admitted = false;
        for (int attempt = 0; attempt < 100 && !admitted; ++attempt) {
            XmppClient again(server.starttls_port());
            again.send("PROXY TCP4 198.51.100.1 127.0.0.1 1004 5222\r\n");
            try {
                admitted = again.open_stream().name() == "features";
            } catch (const std::runtime_error&) {
                std::this_thread::sleep_for(20ms);  // the server has not seen the close yet
            }
        }
        CHECK(admitted);
    }

    TEST_CASE("limits: a client that never reads is disconnected once its outbox stays full for outbox_stall_timeout; "
              "its senders get resource-constraint meanwhile; others carry on")
    {
        TernProcess server;
        server.set("limits", "max_outbox_bytes", "65536");
        server.set("limits", "outbox_stall_timeout", "2");
        server.add_user("sink@localhost", "pw");
        server.add_user("talker@localhost", "pw");
        server.start();
        XmppClient sink(server.starttls_port());
        REQUIRE(sink.login("sink", "pw", "s") == "sink@localhost/s");
        XmppClient talker(server.starttls_port());
        REQUIRE(talker.login("talker", "pw", "t") == "talker@localhost/t");

        const std::string body(8000, 'z');
        bool cut_off = false;
        int refused = 0;
        const auto until = std::chrono::steady_clock::now() + 30s;
        for (int i = 0; !cut_off && std::chrono::steady_clock::now() < until; ++i) {
            talker.send("<message to='sink@localhost/s' type='chat'><body>" + body + "</body></message>");
            while (talker.readable(0ms)) {
                const Received r = talker.next(1s);
                if (r.stanza && r.bytes.find("<resource-constraint") != std::string::npos) ++refused;
            }
            if (i % 100 == 99) {
                cut_off = server.log().find("event=c2s.outbox_stalled") != std::string::npos;
                std::this_thread::sleep_for(20ms);
            }
        }
        CHECK(server.wait_for_log("event=c2s.outbox_stalled"));
        CHECK(refused > 0);
        CHECK(sink.wait_closed());
        CHECK(server.log().find("event=c2s.outbox_full ") == std::string::npos);  // never over the hard bound
        talker.send("<iq type='get' id='still-here' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
        for (;;) {
            xml::Stanza s = talker.next_stanza(10s);
            if (s.name() == "iq") {
                CHECK(s.attr("id") == "still-here");
                CHECK(s.attr("type") == "result");
                break;
            }
        }
    }
}
