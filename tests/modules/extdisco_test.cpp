// XEP-0215 through a real IqDispatcher: replies compared byte for byte, with the XEP's own examples where
// it has them, then the choices tern makes for real clients (inline TURN REST credentials, Monal's
// <credentials/> for STUN, pushes).
#include <doctest/doctest.h>

#include <regex>

#include "config/config.hpp"
#include "../server/envelopes.hpp"
#include "modules/modules.hpp"
#include "modules/registrations.hpp"
#include "../await_now.hpp"
#include "server/iq_dispatcher.hpp"

using namespace tern;
using namespace tern::server;
using Clock = std::chrono::system_clock;

namespace {

Clock::time_point at(long long unix_seconds)
{
    return Clock::time_point{std::chrono::seconds{unix_seconds}};
}

config::Config load(const std::string& toml)
{
    auto result = config::load_string(toml, "test.toml");
    if (!result) FAIL(result.error().to_string());
    return *result;
}

xml::Stanza parse(std::string_view text)
{
    xml::NamespaceScope scope;
    scope.bind({}, "jabber:client");
    auto parsed = xml::Stanza::parse(text, scope);
    REQUIRE(parsed);
    return std::move(*parsed);
}

// Push ids come from a process-wide counter.
std::string without_push_id(const std::string& xml)
{
    return std::regex_replace(xml, std::regex("id='extdisco-[0-9]+'"), "id='extdisco-N'");
}

// One server (its configuration, the dispatcher built from it) and one bound session of `jid`.
struct Server {
    config::Config config;
    IqDispatcher dispatcher;
    Hooks hooks;
    Clock::time_point now = at(1700000000);
    xmpp::Jid jid;
    SessionState state;

    // What the session asked for, as the module keeps it (null before it asked).
    const modules::ExtdiscoSession* asked() const { return state.modules.find<modules::ExtdiscoSession>(); }

    explicit Server(const std::string& toml, std::string_view full_jid = "romeo@montague.lit/orchard")
        : config(load(toml)), jid(*xmpp::Jid::parse(full_jid))
    {
        modules::register_extdisco(dispatcher, hooks, config, nullptr, [this] { return now; });
    }

    Requester requester() { return Requester{jid, "192.0.2.7", 40000, &state}; }

    std::string ask(std::string_view iq)
    {
        return test::text(test::await_now(dispatcher.dispatch(parse(iq), requester(), Target::Server, now)));
    }
};

const std::string shakespeare = R"(
[server]
domains = ["shakespeare.lit", "montague.lit"]
[[services]]
type = "stun"
host = "stun.shakespeare.lit"
port = 9998
transport = "udp"
[[services]]
type = "turn"
host = "relay.shakespeare.lit"
port = 9999
transport = "udp"
username = "nb78932lkjlskjfdb7g8"
password = "jj929jkj5sadjfj93v3n"
restricted = false
[[services]]
type = "stun"
host = "192.0.2.1"
port = 8888
transport = "udp"
[[services]]
type = "turn"
host = "192.0.2.1"
port = 8889
transport = "udp"
username = "auu98sjl2wk3e9fjdsl7"
password = "93jn3bakj9s832lrjbbz"
restricted = false
[[services]]
type = "ftp"
host = "ftp.shakespeare.lit"
port = 20
transport = "tcp"
name = "Shakespearean File Server"
username = "guest"
password = "guest"
restricted = false
)";

// A coturn at turn.montague.lit with shared secret "S" and a one-day ttl.
const std::string montague = R"(
[server]
domains = ["montague.lit", "capulet.lit"]
[turn]
host = "turn.montague.lit"
secret = "S"
)";

const std::string turn_udp_xml = "<service expires='2023-11-15T22:13:20Z' host='turn.montague.lit' "
                                 "password='c9R+Y4WTVxrFObbZuWUKIOi8mKM=' port='3478' restricted='1' transport='udp' "
                                 "type='turn' username='1700086400:romeo@montague.lit'/>";

}  // namespace

TEST_SUITE("modules")
{
    TEST_CASE("extdisco <services/> reply is XEP-0215 example 2")
    {
        Server s(shakespeare, "bard@shakespeare.lit/globe");
        CHECK(s.ask("<iq from='bard@shakespeare.lit/globe' id='ul2bc7y6' to='shakespeare.lit' type='get'>"
                    "<services xmlns='urn:xmpp:extdisco:2'/></iq>") ==
              "<iq type='result' id='ul2bc7y6' to='bard@shakespeare.lit/globe' from='shakespeare.lit'>"
              "<services xmlns='urn:xmpp:extdisco:2'>"
              "<service host='stun.shakespeare.lit' port='9998' transport='udp' type='stun'/>"
              "<service host='relay.shakespeare.lit' password='jj929jkj5sadjfj93v3n' port='9999' transport='udp' "
              "type='turn' username='nb78932lkjlskjfdb7g8'/>"
              "<service host='192.0.2.1' port='8888' transport='udp' type='stun'/>"
              "<service host='192.0.2.1' password='93jn3bakj9s832lrjbbz' port='8889' transport='udp' type='turn' "
              "username='auu98sjl2wk3e9fjdsl7'/>"
              "<service host='ftp.shakespeare.lit' name='Shakespearean File Server' password='guest' port='20' "
              "transport='tcp' type='ftp' username='guest'/>"
              "</services></iq>");
    }

    TEST_CASE("extdisco <services type='turn'/> lists only that type and echoes it (XEP-0215 example 4)")
    {
        Server s(shakespeare, "bard@shakespeare.lit/globe");
        CHECK(s.ask("<iq from='bard@shakespeare.lit/globe' id='yv2c19f7' to='shakespeare.lit' type='get'>"
                    "<services xmlns='urn:xmpp:extdisco:2' type='turn'/></iq>") ==
              "<iq type='result' id='yv2c19f7' to='bard@shakespeare.lit/globe' from='shakespeare.lit'>"
              "<services xmlns='urn:xmpp:extdisco:2' type='turn'>"
              "<service host='relay.shakespeare.lit' password='jj929jkj5sadjfj93v3n' port='9999' transport='udp' "
              "type='turn' username='nb78932lkjlskjfdb7g8'/>"
              "<service host='192.0.2.1' password='93jn3bakj9s832lrjbbz' port='8889' transport='udp' type='turn' "
              "username='auu98sjl2wk3e9fjdsl7'/>"
              "</services></iq>");
        CHECK(s.ask("<iq id='n' to='shakespeare.lit' type='get'><services xmlns='urn:xmpp:extdisco:2' type='sip'/></iq>") ==
              "<iq type='result' id='n' from='shakespeare.lit'><services xmlns='urn:xmpp:extdisco:2' type='sip'/></iq>");
    }

    TEST_CASE("extdisco <credentials/> returns the matching service with credentials (XEP-0215 example 7)")
    {
        // tern answers with the whole entry (port and transport included), which the XEP allows.
        Server s(shakespeare, "bard@shakespeare.lit/globe");
        CHECK(s.ask("<iq from='bard@shakespeare.lit/globe' id='xi2cax48' to='shakespeare.lit' type='get'>"
                    "<credentials xmlns='urn:xmpp:extdisco:2'><service host='relay.shakespeare.lit' type='turn'/>"
                    "</credentials></iq>") ==
              "<iq type='result' id='xi2cax48' to='bard@shakespeare.lit/globe' from='shakespeare.lit'>"
              "<credentials xmlns='urn:xmpp:extdisco:2'>"
              "<service host='relay.shakespeare.lit' password='jj929jkj5sadjfj93v3n' port='9999' transport='udp' "
              "type='turn' username='nb78932lkjlskjfdb7g8'/>"
              "</credentials></iq>");
    }

    TEST_CASE("extdisco TURN REST entries carry inline credentials, restricted and expires")
    {
        Server s(montague);
        CHECK(s.ask("<iq id='a' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2'/></iq>") ==
              "<iq type='result' id='a' from='montague.lit'><services xmlns='urn:xmpp:extdisco:2'>"
              "<service host='turn.montague.lit' port='3478' transport='udp' type='stun'/>" +
                  turn_udp_xml +
                  "<service expires='2023-11-15T22:13:20Z' host='turn.montague.lit' "
                  "password='c9R+Y4WTVxrFObbZuWUKIOi8mKM=' port='3478' restricted='1' transport='tcp' type='turn' "
                  "username='1700086400:romeo@montague.lit'/>"
                  "<service expires='2023-11-15T22:13:20Z' host='turn.montague.lit' "
                  "password='c9R+Y4WTVxrFObbZuWUKIOi8mKM=' port='5349' restricted='1' transport='tcp' type='turns' "
                  "username='1700086400:romeo@montague.lit'/>"
                  "</services></iq>");
    }

    TEST_CASE("extdisco expiry follows the ttl and the request time")
    {
        Server s(montague + "ttl = 3600\n");
        s.now = at(1700000000) + std::chrono::milliseconds(700);
        const std::string out =
            s.ask("<iq id='a' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2' type='turn'/></iq>");
        CHECK(out.find("<service expires='2023-11-14T23:13:20Z' host='turn.montague.lit' "
                       "password='S993A7UiV3KXx+TJ9I9cU0tBH1w=' port='3478' restricted='1' transport='udp' type='turn' "
                       "username='1700003600:romeo@montague.lit'/>") != std::string::npos);
    }

    TEST_CASE("extdisco inline_credentials = false leaves the entry restricted, credentials on request")
    {
        Server s(montague + "inline_credentials = false\nstun = false\nturns = false\n");
        CHECK(s.ask("<iq id='a' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2'/></iq>") ==
              "<iq type='result' id='a' from='montague.lit'><services xmlns='urn:xmpp:extdisco:2'>"
              "<service host='turn.montague.lit' port='3478' restricted='1' transport='udp' type='turn'/>"
              "<service host='turn.montague.lit' port='3478' restricted='1' transport='tcp' type='turn'/>"
              "</services></iq>");
        CHECK(s.asked()->refresh_at == Clock::time_point{});
        CHECK(s.ask("<iq id='c' to='montague.lit' type='get'><credentials xmlns='urn:xmpp:extdisco:2'>"
                    "<service host='turn.montague.lit' type='turn' port='3478'/></credentials></iq>")
                  .find(turn_udp_xml) != std::string::npos);
    }

    TEST_CASE("extdisco <credentials/> returns every match: same host and type on several transports")
    {
        Server s(montague);
        const std::string out = s.ask("<iq id='c' to='montague.lit' type='get'><credentials xmlns='urn:xmpp:extdisco:2'>"
                                      "<service host='turn.montague.lit' type='turn'/></credentials></iq>");
        CHECK(out == "<iq type='result' id='c' from='montague.lit'><credentials xmlns='urn:xmpp:extdisco:2'>" +
                         turn_udp_xml +
                         "<service expires='2023-11-15T22:13:20Z' host='turn.montague.lit' "
                         "password='c9R+Y4WTVxrFObbZuWUKIOi8mKM=' port='3478' restricted='1' transport='tcp' "
                         "type='turn' username='1700086400:romeo@montague.lit'/></credentials></iq>");
        // A port narrows it down; the turns entry is on another port.
        const std::string turns = s.ask("<iq id='d' to='montague.lit' type='get'><credentials xmlns='urn:xmpp:extdisco:2'>"
                                        "<service host='turn.montague.lit' type='turns' port='5349'/></credentials></iq>");
        CHECK(turns.find("type='turns'") != std::string::npos);
        CHECK(turns.find("type='turn'") == std::string::npos);
    }

    TEST_CASE("extdisco <credentials/> for a STUN service answers its entry, not an error (Monal)")
    {
        Server s(montague);
        CHECK(s.ask("<iq id='m' to='montague.lit' type='get'><credentials xmlns='urn:xmpp:extdisco:2'>"
                    "<service host='turn.montague.lit' type='stun' port='3478'/></credentials></iq>") ==
              "<iq type='result' id='m' from='montague.lit'><credentials xmlns='urn:xmpp:extdisco:2'>"
              "<service host='turn.montague.lit' port='3478' transport='udp' type='stun'/></credentials></iq>");
    }

    TEST_CASE("extdisco <credentials/> errors: unknown service, wrong port, malformed request")
    {
        Server s(montague);
        const auto condition = [&](std::string_view payload) {
            const std::string out = s.ask("<iq id='e' to='montague.lit' type='get'>" + std::string(payload) + "</iq>");
            REQUIRE(out.find("type='error'") != std::string::npos);
            const auto start = out.find("<", out.find("<error") + 1);
            return out.substr(start + 1, out.find(' ', start) - start - 1);
        };
        CHECK(condition("<credentials xmlns='urn:xmpp:extdisco:2'><service host='other.lit' type='turn'/></credentials>") ==
              "item-not-found");
        CHECK(condition("<credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.montague.lit' type='turn' "
                        "port='3479'/></credentials>") == "item-not-found");
        CHECK(condition("<credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.montague.lit'/></credentials>") ==
              "bad-request");
        CHECK(condition("<credentials xmlns='urn:xmpp:extdisco:2'/>") == "bad-request");
        CHECK(condition("<credentials xmlns='urn:xmpp:extdisco:2'><service xmlns='urn:other' host='turn.montague.lit' "
                        "type='turn'/></credentials>") == "bad-request");
    }

    TEST_CASE("extdisco signs with the first of several secrets")
    {
        Server s(R"(
[server]
domains = ["montague.lit"]
[turn]
host = "turn.montague.lit"
secret = ["new", "S"]
stun = false
)");
        const std::string out =
            s.ask("<iq id='a' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2' type='turn'/></iq>");
        CHECK(out.find("password='BO3C1gLyAU7+6CRqGuTJWy2Mg84='") != std::string::npos);
    }

    TEST_CASE("extdisco pseudonymous usernames hide the JID")
    {
        Server s(montague + "pseudonymous = true\n");
        const std::string out =
            s.ask("<iq id='a' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2' type='turn'/></iq>");
        CHECK(out.find("username='1700086400:54dc6a04b423b9694434c349db02cbdc'") != std::string::npos);
        CHECK(out.find("password='+jDk9lcrELl8TaKlNODUUhqEHFU='") != std::string::npos);
        CHECK(out.find("romeo") == std::string::npos);
    }

    TEST_CASE("extdisco names follow the request's xml:lang, falling back to the shorter tag and the default")
    {
        Server s(R"(
[[services]]
type = "stun"
host = "stun.example"
port = 3478
transport = "udp"
name = "Relay"
names = { de = "Vermittlung", pt-BR = "Retransmissor" }
)",
                 "romeo@localhost/orchard");
        const auto name_in = [&](std::string_view iq_lang, std::string_view payload_lang) {
            std::string iq = "<iq id='l' to='localhost' type='get'";
            if (!iq_lang.empty()) iq += " xml:lang='" + std::string(iq_lang) + "'";
            iq += "><services xmlns='urn:xmpp:extdisco:2'";
            if (!payload_lang.empty()) iq += " xml:lang='" + std::string(payload_lang) + "'";
            iq += "/></iq>";
            const std::string out = s.ask(iq);
            const auto start = out.find("name='") + 6;
            return out.substr(start, out.find('\'', start) - start);
        };
        CHECK(name_in("", "") == "Relay");
        CHECK(name_in("de", "") == "Vermittlung");
        CHECK(name_in("de-CH", "") == "Vermittlung");
        CHECK(name_in("PT-br", "") == "Retransmissor");
        CHECK(name_in("pt", "") == "Relay");
        CHECK(name_in("fr", "") == "Relay");
        CHECK(name_in("en", "de") == "Vermittlung");
    }

    TEST_CASE("extdisco extended information is a data form of type result")
    {
        Server s(R"(
[[services]]
type = "turn"
host = "relay.example"
port = 3478
transport = "udp"
restricted = false
[services.extended]
FORM_TYPE = "urn:example:relay"
region = ["eu-west", "eu-central"]
)",
                 "romeo@localhost/orchard");
        CHECK(s.ask("<iq id='x' to='localhost' type='get'><services xmlns='urn:xmpp:extdisco:2'/></iq>") ==
              "<iq type='result' id='x' from='localhost'><services xmlns='urn:xmpp:extdisco:2'>"
              "<service host='relay.example' port='3478' transport='udp' type='turn'>"
              "<x xmlns='jabber:x:data' type='result'>"
              "<field var='FORM_TYPE' type='hidden'><value>urn:example:relay</value></field>"
              "<field var='region'><value>eu-west</value><value>eu-central</value></field>"
              "</x></service></services></iq>");
    }

    TEST_CASE("extdisco answers :1 and :0 in the request's namespace, and 0.1's <stun/>")
    {
        Server s(montague + "stun = true\n");
        const std::string v1 =
            s.ask("<iq id='1' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:1' type='turn'/></iq>");
        CHECK(v1.starts_with("<iq type='result' id='1' from='montague.lit'><services xmlns='urn:xmpp:extdisco:1' "
                             "type='turn'>" + turn_udp_xml));
        const std::string c1 = s.ask("<iq id='2' to='montague.lit' type='get'><credentials xmlns='urn:xmpp:extdisco:1'>"
                                     "<service host='turn.montague.lit' type='turn'/></credentials></iq>");
        CHECK(c1.starts_with("<iq type='result' id='2' from='montague.lit'><credentials xmlns='urn:xmpp:extdisco:1'>" +
                             turn_udp_xml));
        const std::string v0 = s.ask("<iq id='3' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:0'/></iq>");
        CHECK(v0.starts_with("<iq type='result' id='3' from='montague.lit'><services xmlns='urn:xmpp:extdisco:0'>"
                             "<service host='turn.montague.lit' port='3478' transport='udp' type='stun'/>"));
        // :0 had no <credentials/>.
        CHECK(s.ask("<iq id='4' to='montague.lit' type='get'><credentials xmlns='urn:xmpp:extdisco:0'>"
                    "<service host='turn.montague.lit' type='turn'/></credentials></iq>")
                  .find("<service-unavailable") != std::string::npos);
        CHECK(s.ask("<iq id='5' to='montague.lit' type='get'><stun xmlns='http://www.xmpp.org/extensions/xep-0215.html#ns'/>"
                    "</iq>") ==
              "<iq type='result' id='5' from='montague.lit'><stun xmlns='http://www.xmpp.org/extensions/xep-0215.html#ns'>"
              "<server host='turn.montague.lit' port='3478' transport='udp'/></stun></iq>");
    }

    TEST_CASE("extdisco allow-list: only listed accounts and domains see services; others get forbidden")
    {
        const std::string toml = R"(
[server]
domains = ["montague.lit", "capulet.lit"]
[[services]]
type = "stun"
host = "stun.montague.lit"
port = 3478
transport = "udp"
allow = ["montague.lit"]
[[services]]
type = "turn"
host = "turn.montague.lit"
port = 3478
transport = "udp"
secret = "S"
allow = ["juliet@capulet.lit"]
)";
        Server romeo(toml, "romeo@montague.lit/orchard");
        const std::string listed =
            romeo.ask("<iq id='a' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2'/></iq>");
        CHECK(listed.find("type='stun'") != std::string::npos);
        CHECK(listed.find("type='turn'") == std::string::npos);
        CHECK(romeo.ask("<iq id='b' to='montague.lit' type='get'><credentials xmlns='urn:xmpp:extdisco:2'>"
                        "<service host='turn.montague.lit' type='turn'/></credentials></iq>")
                  .find("<forbidden") != std::string::npos);

        Server juliet(toml, "juliet@capulet.lit/balcony");
        CHECK(juliet.ask("<iq id='c' to='capulet.lit' type='get'><credentials xmlns='urn:xmpp:extdisco:2'>"
                         "<service host='turn.montague.lit' type='turn'/></credentials></iq>")
                  .find("username='1700086400:juliet@capulet.lit'") != std::string::npos);

        Server nurse(toml, "nurse@capulet.lit/kitchen");
        for (const std::string_view payload :
             {"<services xmlns='urn:xmpp:extdisco:2'/>", "<services xmlns='urn:xmpp:extdisco:1'/>",
              "<stun xmlns='http://www.xmpp.org/extensions/xep-0215.html#ns'/>",
              "<credentials xmlns='urn:xmpp:extdisco:2'><service host='stun.montague.lit' type='stun'/></credentials>"}) {
            CAPTURE(payload);
            CHECK(nurse.ask("<iq id='d' to='capulet.lit' type='get'>" + std::string(payload) + "</iq>").find("<forbidden") !=
                  std::string::npos);
        }
        const auto features = [&](Server& s) {
            const Requester who = s.requester();
            return s.dispatcher.features(Target::Server, who);
        };
        CHECK(features(romeo) == std::vector<std::string>{"http://www.xmpp.org/extensions/xep-0215.html#ns",
                                                           "urn:xmpp:extdisco:0", "urn:xmpp:extdisco:1",
                                                           "urn:xmpp:extdisco:2"});
        CHECK(features(nurse).empty());
    }

    TEST_CASE("extdisco is not offered without services, and is served to the server only")
    {
        Server none("[server]\ndomains = [\"montague.lit\"]\n");
        const Requester who = none.requester();
        CHECK(none.dispatcher.features(Target::Server, who).empty());
        CHECK(none.ask("<iq id='a' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2'/></iq>")
                  .find("<service-unavailable") != std::string::npos);

        Server s(montague);
        const std::string out = test::text(test::await_now(s.dispatcher.dispatch(
            parse("<iq id='b' type='get'><services xmlns='urn:xmpp:extdisco:2'/></iq>"), who, Target::Account, s.now)));
        CHECK(out.find("<service-unavailable") != std::string::npos);
    }

    TEST_CASE("extdisco remembers what a session asked for and when its credentials need refreshing")
    {
        Server s(montague);
        CHECK(s.asked() == nullptr);
        s.ask("<iq id='a' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2' type='stun'/></iq>");
        REQUIRE(s.asked() != nullptr);
        const auto& e = *s.asked();
        CHECK_FALSE(e.requested_all);
        CHECK(e.types == std::vector<std::string>{"stun"});
        CHECK(e.ns == "urn:xmpp:extdisco:2");
        CHECK(e.refresh_at == Clock::time_point{});

        s.ask("<iq id='b' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:1' type='turn'/></iq>");
        s.ask("<iq id='c' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:1' type='turn'/></iq>");
        CHECK(e.types == std::vector<std::string>{"stun", "turn"});
        CHECK(e.ns == "urn:xmpp:extdisco:1");
        CHECK(e.refresh_at == at(1700086400 - 120));

        s.now = at(1700001000);
        s.ask("<iq id='d' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2'/></iq>");
        CHECK(e.requested_all);
        CHECK(e.refresh_at == at(1700087400 - 120));

        // <credentials/> alone does not subscribe to pushes.
        Server other(montague);
        other.ask("<iq id='e' to='montague.lit' type='get'><credentials xmlns='urn:xmpp:extdisco:2'>"
                  "<service host='turn.montague.lit' type='turn'/></credentials></iq>");
        CHECK(other.asked() == nullptr);
    }

    TEST_CASE("extdisco pushes fresh credentials shortly before the held ones expire")
    {
        Server s(montague);
        s.ask("<iq id='a' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2' type='turn'/></iq>");
        const Requester who = s.requester();
        Envelopes out;
        s.hooks.on_tick(who, at(1700086400 - 121), out);
        CHECK(out.empty());
        s.hooks.on_tick(who, at(1700086400 - 120), out);
        CHECK(without_push_id(test::joined(out)) ==
              "<iq type='set' id='extdisco-N' from='montague.lit' to='romeo@montague.lit/orchard'>"
              "<services xmlns='urn:xmpp:extdisco:2' type='turn'>"
              "<service action='modify' expires='2023-11-16T22:11:20Z' host='turn.montague.lit' "
              "password='KiGuiYiAw9XkfIvFHJjJvXoiPz8=' port='3478' restricted='1' transport='udp' type='turn' "
              "username='1700172680:romeo@montague.lit'/>"
              "<service action='modify' expires='2023-11-16T22:11:20Z' host='turn.montague.lit' "
              "password='KiGuiYiAw9XkfIvFHJjJvXoiPz8=' port='3478' restricted='1' transport='tcp' type='turn' "
              "username='1700172680:romeo@montague.lit'/>"
              "</services></iq>");
        CHECK(s.asked()->refresh_at == at(1700172680 - 120));
        out.clear();
        s.hooks.on_tick(who, at(1700086400), out);
        CHECK(out.empty());
    }

    TEST_CASE("extdisco never pushes to sessions that did not ask for services")
    {
        Server s(montague);
        const Requester who = s.requester();
        Envelopes out;
        s.hooks.on_tick(who, at(1800000000), out);
        s.hooks.on_reload(who, out);
        CHECK(out.empty());
        const Requester stateless{s.jid, "192.0.2.7", 1, nullptr};
        s.hooks.on_tick(stateless, at(1800000000), out);
        s.hooks.on_reload(stateless, out);
        CHECK(out.empty());
    }

    TEST_CASE("extdisco pushes what a reload changed, only of the types the session asked for")
    {
        Server s(montague);
        const config::Config before = s.config;
        const config::Config after = load(R"(
[server]
domains = ["montague.lit", "capulet.lit"]
[turn]
host = "turn.montague.lit"
secret = "S2"
turns = false
[[services]]
type = "stun"
host = "stun2.montague.lit"
port = 3478
transport = "udp"
)");
        IqDispatcher reloaded;
        Hooks reloaded_hooks;
        const auto reload_time = at(1700003600);
        modules::register_extdisco(reloaded, reloaded_hooks, after, &before, [&] { return reload_time; });

        const auto push_for = [&](std::string_view request) {
            Server session(montague);
            session.ask(request);
            Envelopes out;
            const Requester who = session.requester();
            reloaded_hooks.on_reload(who, out);
            return std::make_pair(without_push_id(test::joined(out)), session.asked()->refresh_at);
        };
        const std::string turn_modify =
            "<service action='modify' expires='2023-11-15T23:13:20Z' host='turn.montague.lit' "
            "password='sHbjedJ6vdoS5hur14wD9JiqVVI=' port='3478' restricted='1' transport='udp' type='turn' "
            "username='1700090000:romeo@montague.lit'/>"
            "<service action='modify' expires='2023-11-15T23:13:20Z' host='turn.montague.lit' "
            "password='sHbjedJ6vdoS5hur14wD9JiqVVI=' port='3478' restricted='1' transport='tcp' type='turn' "
            "username='1700090000:romeo@montague.lit'/>";

        const auto [turn_only, turn_refresh] =
            push_for("<iq id='a' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2' type='turn'/></iq>");
        CHECK(turn_only == "<iq type='set' id='extdisco-N' from='montague.lit' to='romeo@montague.lit/orchard'>"
                           "<services xmlns='urn:xmpp:extdisco:2' type='turn'>" +
                               turn_modify + "</services></iq>");
        // The credentials from before the reload still expire first.
        CHECK(turn_refresh == at(1700086400 - 120));

        const auto [all, all_refresh] =
            push_for("<iq id='b' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2'/></iq>");
        CHECK(all == "<iq type='set' id='extdisco-N' from='montague.lit' to='romeo@montague.lit/orchard'>"
                     "<services xmlns='urn:xmpp:extdisco:2'>" +
                         turn_modify +
                         "<service action='add' host='stun2.montague.lit' port='3478' transport='udp' type='stun'/>"
                         "<service action='remove' host='turn.montague.lit' port='5349' transport='tcp' type='turns'/>"
                         "</services></iq>");

        const auto [stun_only, stun_refresh] =
            push_for("<iq id='c' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:1' type='stun'/></iq>");
        CHECK(stun_only == "<iq type='set' id='extdisco-N' from='montague.lit' to='romeo@montague.lit/orchard'>"
                           "<services xmlns='urn:xmpp:extdisco:1' type='stun'>"
                           "<service action='add' host='stun2.montague.lit' port='3478' transport='udp' type='stun'/>"
                           "</services></iq>");
        CHECK(stun_refresh == Clock::time_point{});

        const auto [ftp_only, ftp_refresh] =
            push_for("<iq id='d' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2' type='ftp'/></iq>");
        CHECK(ftp_only.empty());
    }

    TEST_CASE("extdisco pushes removals when a reload leaves no services, and nothing when nothing changed")
    {
        Server s(montague);
        s.ask("<iq id='a' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2' type='turns'/></iq>");
        const Requester who = s.requester();

        IqDispatcher emptied;
        Hooks emptied_hooks;
        const config::Config none = load("[server]\ndomains = [\"montague.lit\"]\n");
        modules::register_extdisco(emptied, emptied_hooks, none, &s.config);
        CHECK(emptied.features(Target::Server, who).empty());
        Envelopes out;
        emptied_hooks.on_reload(who, out);
        CHECK(without_push_id(test::joined(out)) ==
              "<iq type='set' id='extdisco-N' from='montague.lit' to='romeo@montague.lit/orchard'>"
              "<services xmlns='urn:xmpp:extdisco:2' type='turns'>"
              "<service action='remove' host='turn.montague.lit' port='5349' transport='tcp' type='turns'/>"
              "</services></iq>");

        IqDispatcher same;
        Hooks same_hooks;
        modules::register_extdisco(same, same_hooks, s.config, &s.config);
        out.clear();
        same_hooks.on_reload(who, out);
        CHECK(out.empty());
    }

    TEST_CASE("extdisco allow-list changes push additions and removals to the affected session only")
    {
        Server s(montague);
        s.ask("<iq id='a' to='montague.lit' type='get'><services xmlns='urn:xmpp:extdisco:2' type='stun'/></iq>");
        const Requester who = s.requester();
        IqDispatcher reloaded;
        Hooks reloaded_hooks;
        const config::Config restricted = load(montague + "allow = [\"capulet.lit\"]\n");
        modules::register_extdisco(reloaded, reloaded_hooks, restricted, &s.config);
        Envelopes out;
        reloaded_hooks.on_reload(who, out);
        CHECK(without_push_id(test::joined(out)) ==
              "<iq type='set' id='extdisco-N' from='montague.lit' to='romeo@montague.lit/orchard'>"
              "<services xmlns='urn:xmpp:extdisco:2' type='stun'>"
              "<service action='remove' host='turn.montague.lit' port='3478' transport='udp' type='stun'/>"
              "</services></iq>");
    }

    TEST_CASE("extdisco and sic are registered by register_all and listed by disco")
    {
        const config::Config config = load(montague);
        IqDispatcher dispatcher;
        Hooks hooks;
        modules::register_all(dispatcher, hooks, config, nullptr);
        const xmpp::Jid jid = *xmpp::Jid::parse("romeo@montague.lit/orchard");
        const Requester who{jid, "192.0.2.7", 1, nullptr};
        const auto server = dispatcher.features(Target::Server, who);
        for (const char* feature : {"urn:xmpp:extdisco:2", "urn:xmpp:extdisco:1", "urn:xmpp:extdisco:0",
                                    "http://www.xmpp.org/extensions/xep-0215.html#ns", "urn:xmpp:sic:1", "urn:xmpp:sic:0"}) {
            CAPTURE(feature);
            CHECK(std::find(server.begin(), server.end(), feature) != server.end());
        }
        const auto account = dispatcher.features(Target::Account, who);
        CHECK(std::find(account.begin(), account.end(), "urn:xmpp:sic:1") != account.end());
        CHECK(std::find(account.begin(), account.end(), "urn:xmpp:extdisco:2") == account.end());
    }
}
