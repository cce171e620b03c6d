// The XEP-0215 module alone, for one core: a parsed <credentials/> request (one TURN REST service, one
// HMAC-SHA1) and a <services/> request (the [turn] shortcut's four entries, three HMACs) dispatched through
// the IqDispatcher over and over. No sockets, TLS or framing: see `tern-loadgen extdisco` for the whole server.
//   extdisco_handler_bench [seconds per measurement, default 2]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/config.hpp"
#include "modules/modules.hpp"
#include "server/iq_dispatcher.hpp"

using namespace tern;
using Clock = std::chrono::steady_clock;

namespace {

void measure(const server::IqDispatcher& dispatcher, const char* what, std::string_view request, double seconds)
{
    xml::NamespaceScope scope;
    scope.bind({}, "jabber:client");
    const xml::Stanza iq = *xml::Stanza::parse(request, scope);
    const xmpp::Jid jid = *xmpp::Jid::parse("alice@localhost/phone");
    server::SessionState state;
    const server::Requester who{jid, "127.0.0.1", 40000, &state};
    server::Envelopes out;
    std::size_t replies = 0;
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (Clock::now() < end) {
        for (int i = 0; i < 1000; ++i) {
            out.clear();
            dispatcher.dispatch(iq, who, server::Target::Server, std::chrono::system_clock::now(), out);
        }
        replies += 1000;
    }
    if (out.size() != 1 || out[0].type() != "result") {
        std::fprintf(stderr, "%s: no result: %s\n", what, out.empty() ? "" : std::string(out[0].bytes()).c_str());
        std::exit(1);
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("%-40s %10.0f replies/s  %6.2f us/reply  %zu B/reply\n", what, replies / elapsed,
                1e6 * elapsed / static_cast<double>(replies), out[0].bytes().size());
}

}  // namespace

int main(int argc, char** argv)
{
    const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
    auto config = config::load_string("[turn]\nhost = \"127.0.0.1\"\nsecret = \"bench-secret\"\n", "bench");
    if (!config) {
        std::fprintf(stderr, "%s\n", config.error().to_string().c_str());
        return 1;
    }
    server::IqDispatcher dispatcher;
    server::Hooks hooks;
    modules::register_all(dispatcher, hooks, *config, nullptr);
    measure(dispatcher, "<credentials/> one turns service",
            "<iq type='get' id='c1' from='alice@localhost/phone' to='localhost'><credentials xmlns='urn:xmpp:extdisco:2'>"
            "<service host='127.0.0.1' type='turns'/></credentials></iq>",
            seconds);
    measure(dispatcher, "<services/> all four entries",
            "<iq type='get' id='s1' from='alice@localhost/phone' to='localhost'><services xmlns='urn:xmpp:extdisco:2'/></iq>",
            seconds);
    return 0;
}
