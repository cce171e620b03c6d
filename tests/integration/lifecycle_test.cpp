// ternd as a process: configuration errors, --check-config, graceful shutdown and reload.
#include <doctest/doctest.h>

#include <fstream>

#include "tern_process.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

TEST_SUITE("integration")
{
    TEST_CASE("lifecycle: a bad config stops start-up with file, line and key")
    {
        TernProcess server;
        server.set("limits", "max_depth", "\"deep\"");
        server.write_config();
        const auto result = run_program({ternd_path(), "--config", server.config_path().string()});
        CHECK(result.exit_code == 1);
        CHECK(result.output.find(server.config_path().string() + ":") != std::string::npos);
        CHECK(result.output.find("limits.max_depth") != std::string::npos);
    }

    TEST_CASE("lifecycle: an unknown key is refused")
    {
        TernProcess server;
        server.set("c2s", "listne", "[]");
        server.write_config();
        const auto result = run_program({ternd_path(), "--check-config", "--config", server.config_path().string()});
        CHECK(result.exit_code == 1);
        CHECK(result.output.find("c2s.listne") != std::string::npos);
    }

    TEST_CASE("lifecycle: --check-config accepts a valid file and the sample config")
    {
        TernProcess server;
        server.write_config();
        CHECK(run_program({ternd_path(), "--check-config", "--config", server.config_path().string()}).exit_code == 0);
        CHECK(run_program({ternd_path(), "--check-config", "--config", TERN_SAMPLE_CONFIG}).exit_code == 0);
    }

    TEST_CASE("lifecycle: SIGTERM sends system-shutdown to every stream and exits 0")
    {
        TernProcess server;
        server.add_user("alice@localhost", "wonderland");
        server.start();
        XmppClient bound(server.starttls_port());
        REQUIRE(bound.login("alice", "wonderland", "r").starts_with("alice@localhost/"));
        XmppClient negotiating(server.starttls_port());
        negotiating.open_stream();
        CHECK(server.stop() == 0);
        CHECK(bound.expect_stream_error() == "system-shutdown");
        CHECK(negotiating.expect_stream_error() == "system-shutdown");
    }

    TEST_CASE("lifecycle: SIGHUP reloads domains without dropping sessions; a bad file is rejected")
    {
        TernProcess server;
        server.add_user("alice@localhost", "wonderland");
        server.start();
        XmppClient bound(server.starttls_port());
        REQUIRE(bound.login("alice", "wonderland", "r") == "alice@localhost/r");

        server.set("server", "domains", R"(["localhost", "example.test", "new.example"])");
        server.write_config();
        REQUIRE(server.running());
        server.reload();
        REQUIRE(server.wait_for_log("event=ternd.reloaded"));
        XmppClient fresh(server.starttls_port());
        fresh.open_stream("new.example");
        CHECK(fresh.stream_header().attr("from") == "new.example");

        server.set("limits", "max_depth", "-1");
        server.write_config();
        server.reload();
        CHECK(server.wait_for_log("event=ternd.reload_failed"));
        CHECK(server.log().find("limits.max_depth") != std::string::npos);

        bound.send("<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
        CHECK(bound.next_stanza().attr("type") == "result");
    }
}
