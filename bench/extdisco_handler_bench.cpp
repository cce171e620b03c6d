// The XEP-0215 module alone, for one core: a parsed <credentials/> request (one TURN REST service, one
// HMAC-SHA1) and a <services/> request (the [turn] shortcut's four entries, three HMACs) dispatched through
// the IqDispatcher over and over, awaited from one coroutine as a connection awaits it. Each round parses the
// request again (dispatch takes the stanza), so a reply costs a parse, the dispatch and the handler. No
// sockets, TLS or framing: see `tern-loadgen extdisco` for the whole server.
//   extdisco_handler_bench [seconds per measurement, default 2]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "config/config.hpp"
#include "modules/modules.hpp"
#include "server/iq_dispatcher.hpp"

using namespace tern;
using Clock = std::chrono::steady_clock;

namespace {

asio::awaitable<void> answer_for(const server::IqDispatcher& dispatcher, std::string_view request, double seconds,
                                 std::optional<server::Envelope>& out, std::size_t& replies,
                                 Clock::time_point start)
{
    xml::NamespaceScope scope;
    scope.bind({}, "jabber:client");
    const xmpp::Jid jid = *xmpp::Jid::parse("alice@localhost/phone");
    server::SessionState state;
    const server::Requester who{jid, "127.0.0.1", 40000, &state};
    const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (Clock::now() < end) {
        for (int i = 0; i < 1000; ++i) {
            out = co_await dispatcher.dispatch(*xml::Stanza::parse(request, scope), who, server::Target::Server,
                                               std::chrono::system_clock::now());
        }
        replies += 1000;
    }
}

void measure(const server::IqDispatcher& dispatcher, const char* what, std::string_view request, double seconds)
{
    std::optional<server::Envelope> out;
    std::size_t replies = 0;
    const auto start = Clock::now();
    asio::io_context io;
    asio::co_spawn(io, answer_for(dispatcher, request, seconds, out, replies, start), asio::detached);
    io.run();
    if (!out || out->type() != "result") {
        std::fprintf(stderr, "%s: no result: %s\n", what, out ? std::string(out->bytes()).c_str() : "");
        std::exit(1);
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("%-40s %10.0f replies/s  %6.2f us/reply  %zu B/reply\n", what, replies / elapsed,
                1e6 * elapsed / static_cast<double>(replies), out->bytes().size());
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
