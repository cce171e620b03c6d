// No secret reaches a log: ternd at log level debug and ternctl go through logins (SCRAM, PLAIN, wrong
// passwords), password changes, XEP-0215 credential requests and a reload; afterwards neither ternd's log
// nor ternctl's output holds a password, a PLAIN message, a SCRAM client-final message, proof or server
// signature, a TURN secret, or a TURN password the clients were given.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "crypto/crypto.hpp"
#include "sasl/scram_client.hpp"
#include "tern_process.hpp"
#include "xmpp/ns.hpp"
#include "xmpp_client.hpp"

using namespace tern;
using namespace tern::test;

namespace {

const std::string turn_secret = "turn-secret-Qx7vB2";
const std::string services_secret = "services-secret-Lm4pT9";
const std::string static_password = "static-password-Zk3wR8";

const std::string services_toml = R"(
[turn]
host = "127.0.0.1"
secret = ")" + turn_secret + R"("
ttl = 3600

[[services]]
type = "turn"
host = "relay2.example.test"
port = 3479
transport = "tcp"
secret = ")" + services_secret + R"("
pseudonymous = true

[[services]]
type = "turn"
host = "relay3.example.test"
port = 3480
transport = "udp"
username = "static-user"
password = ")" + static_password + R"("
)";

// Everything that must never be logged, with what it is (for the failure message).
struct Secrets {
    std::vector<std::pair<std::string, std::string>> items;

    void add(std::string what, const std::string& value)
    {
        REQUIRE(!value.empty());
        items.emplace_back(std::move(what), value);
    }
    // The value and its base64 form, as it crossed the wire.
    void add_with_base64(const std::string& what, const std::string& value)
    {
        add(what, value);
        add(what + " (base64)", crypto::base64_encode(value));
    }
};

std::string sasl_text(const xml::Stanza& s)
{
    const auto decoded = crypto::base64_decode(s.root().text());
    REQUIRE(decoded.has_value());
    return *decoded;
}

// The value of attribute `key` ("p", "v") in a SCRAM message.
std::string scram_attribute(const std::string& message, char key)
{
    const std::string tag = std::string(1, key) + "=";
    auto at = message.rfind("," + tag);
    at = at == std::string::npos ? (message.starts_with(tag) ? 0 : std::string::npos) : at + 1;
    REQUIRE(at != std::string::npos);
    const auto end = message.find(',', at);
    return message.substr(at + 2, end == std::string::npos ? std::string::npos : end - at - 2);
}

// A SCRAM exchange that records the client-final message, its proof and the server's signature.
std::string scram_recorded(XmppClient& client, crypto::Hash hash, std::string_view mechanism, const std::string& user,
                           const std::string& password, Secrets& secrets)
{
    sasl::ScramClient scram(hash, user, password);
    client.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + std::string(mechanism) + "'>" +
                crypto::base64_encode(scram.client_first()) + "</auth>");
    const xml::Stanza challenge = client.next_stanza();
    REQUIRE(challenge.name() == "challenge");
    const auto final_message = scram.client_final(sasl_text(challenge));
    REQUIRE(final_message.has_value());
    secrets.add_with_base64(std::string(mechanism) + " client-final message", *final_message);
    secrets.add_with_base64(std::string(mechanism) + " client proof", scram_attribute(*final_message, 'p'));
    client.send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + crypto::base64_encode(*final_message) +
                "</response>");
    const xml::Stanza outcome = client.next_stanza(std::chrono::seconds(10));
    if (outcome.name() != "success") return std::string(outcome.name());
    const std::string server_final = sasl_text(outcome);
    secrets.add_with_base64(std::string(mechanism) + " server-final message", server_final);
    secrets.add_with_base64(std::string(mechanism) + " server signature", scram_attribute(server_final, 'v'));
    CHECK(scram.verify_server_final(server_final));
    return "success";
}

std::string plain_recorded(XmppClient& client, const std::string& user, const std::string& password, Secrets& secrets)
{
    const std::string message = std::string("\0", 1) + user + std::string("\0", 1) + password;
    secrets.add_with_base64("PLAIN message", message);
    return client.plain(user, password);
}

// Every password attribute of the services in an XEP-0215 reply.
void collect_turn_passwords(const xml::Stanza& reply, Secrets& secrets)
{
    REQUIRE(reply.type() == "result");
    for (const xml::Element service : reply.root().first_child_element().children()) {
        if (service.has_attr("password")) secrets.add("a TURN password given out", std::string(service.attr("password")));
    }
}

xml::Stanza ask(XmppClient& client, const std::string& id, const std::string& payload)
{
    client.send("<iq type='get' id='" + id + "' to='localhost'>" + payload + "</iq>");
    xml::Stanza reply = client.next_stanza();
    REQUIRE(reply.id() == id);
    return reply;
}

std::string ctl(TernProcess& server, const std::vector<std::string>& args, const std::string& input,
                std::string& all_output)
{
    std::vector<std::string> argv{ternctl_path(), "--config", server.config_path().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult r = run_program(argv, input);
    all_output += r.output;
    REQUIRE(r.exit_code == 0);
    return r.output;
}

std::unique_ptr<XmppClient> secured(TernProcess& server)
{
    auto client = std::make_unique<XmppClient>(server.starttls_port());
    client->open_stream();
    client->starttls();
    return client;
}

}  // namespace

TEST_SUITE("integration")
{
    TEST_CASE("secrets: no password, SCRAM proof, signature, TURN secret or TURN password is logged at debug level")
    {
        TernProcess server;
        server.set("limits", "max_auth_failures_per_minute", "100");
        server.set_extra_toml(services_toml);
        Secrets secrets;
        secrets.add("the [turn] secret", turn_secret);
        secrets.add("a [[services]] secret", services_secret);
        secrets.add("a static TURN password", static_password);

        std::string ctl_output;
        const std::string first_password = "first-Pw-9fKd2";
        const std::string alice_password = "alice-Pw-3hJq7";
        const std::string bob_password = "bob-Pw-6tNm1";
        for (const auto& p : {first_password, alice_password, bob_password}) secrets.add_with_base64("a password", p);
        server.write_config();
        ctl(server, {"adduser", "alice@localhost"}, first_password + "\n", ctl_output);
        ctl(server, {"adduser", "bob@localhost"}, bob_password + "\n", ctl_output);
        server.start();
        ctl(server, {"passwd", "alice@localhost"}, alice_password + "\n", ctl_output);  // while ternd runs

        const std::string wrong = "wrong-Pw-8sLx4";
        secrets.add_with_base64("a wrong password", wrong);
        {
            auto c = secured(server);
            CHECK(scram_recorded(*c, crypto::Hash::Sha256, "SCRAM-SHA-256", "alice", wrong, secrets) == "failure");
        }
        {
            auto c = secured(server);
            CHECK(plain_recorded(*c, "alice", wrong, secrets) == "not-authorized");
            CHECK(plain_recorded(*c, "alice", first_password, secrets) == "not-authorized");  // changed since
        }
        {
            // PLAIN before TLS is refused, but its base64 crossed the wire and reached the server.
            XmppClient c(server.starttls_port());
            c.open_stream();
            CHECK(plain_recorded(c, "bob", bob_password, secrets) == "encryption-required");
        }
        {
            auto c = secured(server);
            CHECK(plain_recorded(*c, "bob", bob_password, secrets) == "success");
        }
        {
            auto c = secured(server);
            CHECK(scram_recorded(*c, crypto::Hash::Sha1, "SCRAM-SHA-1", "bob", bob_password, secrets) == "success");
        }
        auto alice = secured(server);
        REQUIRE(scram_recorded(*alice, crypto::Hash::Sha256, "SCRAM-SHA-256", "alice", alice_password, secrets) ==
                "success");
        alice->open_stream();
        REQUIRE(alice->bind("phone") == "alice@localhost/phone");

        collect_turn_passwords(ask(*alice, "s2", "<services xmlns='urn:xmpp:extdisco:2'/>"), secrets);
        collect_turn_passwords(ask(*alice, "s1", "<services xmlns='urn:xmpp:extdisco:1'/>"), secrets);
        collect_turn_passwords(
            ask(*alice, "c2",
                "<credentials xmlns='urn:xmpp:extdisco:2'><service host='127.0.0.1' type='turn'/>"
                "<service host='relay2.example.test' type='turn'/><service host='relay3.example.test' type='turn'/>"
                "</credentials>"),
            secrets);
        collect_turn_passwords(
            ask(*alice, "c1", "<credentials xmlns='urn:xmpp:extdisco:1'><service host='127.0.0.1' type='turns'/></credentials>"),
            secrets);
        server.reload();
        REQUIRE(server.wait_for_log("event=ternd.reloaded"));
        alice->send("</stream:stream>");
        CHECK(alice->expect_stream_error().empty());
        REQUIRE(server.stop() == 0);

        const std::string log = server.log();
        REQUIRE(log.find("level=debug") != std::string::npos);  // the debug lines were written
        CHECK(log.find("event=c2s.auth_failed") != std::string::npos);
        CHECK(secrets.items.size() > 40);
        for (const auto& [what, value] : secrets.items) {
            INFO(what, ": ", value);
            CHECK(log.find(value) == std::string::npos);
            CHECK(ctl_output.find(value) == std::string::npos);
        }
    }
}
