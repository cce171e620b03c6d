// Frames, checks and parses a realistic mix of client stanzas from one large buffer fed in 4 KiB chunks,
// as a connection's reader would, and prints stanzas/s and MB/s for one core. Not a test.
//   xml_bench [seconds per measurement, default 2]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "xml/stanza.hpp"
#include "xml/tokenizer.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "to='example.com' version='1.0' xml:lang='en'>";

std::vector<std::string> stanza_mix()
{
    return {
        // 300 B chat message with body and extensions (the "typical message" of the target).
        "<message to='romeo@example.net/orchard' from='juliet@example.com/balcony' type='chat' id='ktx72v49'>"
        "<body>Wherefore art thou, Romeo? Deny thy father.</body>"
        "<active xmlns='http://jabber.org/protocol/chatstates'/><request xmlns='urn:xmpp:receipts'/>"
        "<origin-id xmlns='urn:xmpp:sid:0' id='de305d54'/></message>",
        "<message to='romeo@example.net' type='chat' id='m2'><body>Good night, good night! Parting is such sweet "
        "sorrow &amp; I shall say good night till it be morrow. \xc3\xa9\xe2\x82\xac</body><markable "
        "xmlns='urn:xmpp:chat-markers:0'/><store xmlns='urn:xmpp:hints'/></message>",
        "<presence><show>away</show><status>In a meeting</status><priority>5</priority><c "
        "xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://tern.example/caps' "
        "ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>",
        "<iq type='get' id='ping-17' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>",
        "<iq type='get' id='disco1' to='example.com'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
        "<iq type='set' id='jingle1' to='romeo@example.net/orchard'><jingle xmlns='urn:xmpp:jingle:1' "
        "action='session-initiate' initiator='juliet@example.com/balcony' sid='a73sjjvkla37jfea'><content "
        "creator='initiator' name='voice'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>"
        "<payload-type id='111' name='opus' clockrate='48000' channels='2'/><payload-type id='0' name='PCMU' "
        "clockrate='8000'/></description><transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' "
        "pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'><candidate component='1' foundation='1' generation='0' "
        "id='el0747fg11' ip='192.0.2.1' network='1' port='8998' priority='2130706431' protocol='udp' "
        "type='host'/></transport></content></jingle></iq>",
        "<iq type='get' id='ext1' to='example.com'><services xmlns='urn:xmpp:extdisco:2' type='turn'/></iq>",
    };
}

// Weights: mostly messages, as on a chat server.
std::string build_stream(std::size_t target_bytes, std::size_t& stanzas)
{
    const std::vector<std::string> mix = stanza_mix();
    const int weights[] = {5, 3, 3, 2, 1, 1, 1};
    std::string s(header);
    stanzas = 0;
    while (s.size() < target_bytes) {
        for (std::size_t i = 0; i < mix.size(); ++i) {
            for (int w = 0; w < weights[i]; ++w) {
                s += mix[i];
                ++stanzas;
            }
        }
    }
    return s;
}

struct Result {
    double seconds = 0;
    std::size_t stanzas = 0;
    std::size_t bytes = 0;
};

// One pass over the stream; `parse` selects framing only or framing + Stanza::parse.
std::size_t pass(std::string_view stream, bool parse, std::size_t& checksum)
{
    tern::xml::Tokenizer t;
    std::size_t n = 0;
    for (std::size_t off = 0; off < stream.size(); off += 4096) {
        t.feed(stream.substr(off, 4096));
        for (tern::xml::Event e = t.next(); e.kind != tern::xml::EventKind::NeedMore; e = t.next()) {
            if (e.kind == tern::xml::EventKind::Error) {
                std::fprintf(stderr, "unexpected error: %s\n", t.error().text.c_str());
                std::exit(1);
            }
            if (e.kind != tern::xml::EventKind::Stanza) continue;
            ++n;
            if (parse) {
                auto s = tern::xml::Stanza::parse(e, t.header().scope());
                if (!s) {
                    std::fprintf(stderr, "parse error: %s\n", s.error().text.c_str());
                    std::exit(1);
                }
                checksum += s->name().size() + s->ns().size();
            } else {
                checksum += e.bytes.size();
            }
        }
    }
    return n;
}

Result measure(std::string_view stream, bool parse, double seconds)
{
    std::size_t checksum = 0;
    pass(stream, parse, checksum);  // warm-up
    Result r;
    const auto start = Clock::now();
    do {
        r.stanzas += pass(stream, parse, checksum);
        r.bytes += stream.size();
        r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    } while (r.seconds < seconds);
    if (checksum == 0) std::puts("");  // keeps the work observable
    return r;
}

void print(const char* what, const Result& r)
{
    std::printf("%-34s %10.0f stanzas/s  %8.1f MB/s  (%zu stanzas, avg %zu B, %.2f s)\n", what,
                static_cast<double>(r.stanzas) / r.seconds, static_cast<double>(r.bytes) / r.seconds / 1e6, r.stanzas,
                r.bytes / r.stanzas, r.seconds);
}

}  // namespace

int main(int argc, char** argv)
{
    const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
    std::size_t count = 0;
    const std::string stream = build_stream(8 << 20, count);
    std::printf("stream: %zu bytes, %zu stanzas, fed in 4 KiB chunks, one core\n", stream.size(), count);
    print("framing + checks (Tokenizer)", measure(stream, false, seconds));
    print("framing + checks + Stanza::parse", measure(stream, true, seconds));

    // The 300-byte message alone, the reference stanza.
    std::string messages(header);
    const std::string msg = stanza_mix()[0];
    while (messages.size() < (8u << 20)) messages += msg;
    std::printf("reference message: %zu bytes\n", msg.size());
    print("messages: framing + parse", measure(messages, true, seconds));
    return 0;
}
