// Feeds the input to a Tokenizer twice, once in chunks whose sizes derive from the data and once whole,
// and requires identical events. Every framed stanza must parse, and its serialization must re-parse to
// the same bytes. The first input byte picks the chunking pattern and the limits.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "xml/stanza.hpp"
#include "xml/tokenizer.hpp"

namespace {

using tern::xml::Event;
using tern::xml::EventKind;
using tern::xml::Stanza;
using tern::xml::Tokenizer;

[[noreturn]] void violated()
{
    __builtin_trap();
}

void check_stanza(const Event& event, const tern::xml::NamespaceScope& scope)
{
    auto parsed = Stanza::parse(event.bytes, scope);
    if (!parsed) violated();  // the framer accepted it, so it is well-formed and namespace-valid
    // The framer's no-prefix shortcut must give exactly the fully resolved tree.
    auto fast = Stanza::parse(event, scope);
    if (!fast || fast->serialize() != parsed->serialize()) violated();
    const std::string once = parsed->serialize();
    auto again = Stanza::parse(once, tern::xml::NamespaceScope{});
    if (!again || again->serialize() != once || again->ns() != parsed->ns() || again->name() != parsed->name()) violated();
}

// Runs the stream; chunk sizes cycle through `pattern` (a single 0 means "all at once").
std::vector<std::string> run(std::string_view input, const std::vector<std::size_t>& pattern, const tern::xml::Limits& limits)
{
    Tokenizer t(limits);
    std::vector<std::string> events;
    std::size_t pos = 0;
    std::size_t k = 0;
    bool failed = false;
    while (!failed && pos < input.size()) {
        const std::size_t n = pattern[k++ % pattern.size()];
        const std::size_t take = n == 0 ? input.size() - pos : std::min(n, input.size() - pos);
        t.feed(input.substr(pos, take));
        pos += take;
        for (Event e = t.next(); e.kind != EventKind::NeedMore; e = t.next()) {
            if (e.kind == EventKind::Error) {
                events.push_back("E" + std::string(to_string(t.error().condition)));
                if (t.next().kind != EventKind::Error) violated();
                failed = true;
                break;
            }
            events.push_back(std::to_string(static_cast<int>(e.kind)) + std::string(e.bytes));
            if (e.kind == EventKind::StreamOpen) {
                if (t.header().ns() != tern::xml::stream_ns || t.header().local_name() != "stream") violated();
            } else if (e.kind == EventKind::Stanza) {
                check_stanza(e, t.header().scope());
                // Exercise restarts the way a session does after SASL success / STARTTLS proceed.
                if (e.bytes.substr(0, 8) == "<success" || e.bytes.substr(0, 8) == "<proceed") {
                    // unconsumed() depends on the chunking, so only its consistency is checked.
                    if (t.unconsumed() > input.size()) violated();
                    events.push_back("R");
                    t.restart();
                }
            }
        }
    }
    return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    const std::uint8_t mode = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

    tern::xml::Limits limits;
    if (mode & 0x80) {
        limits.max_stanza_bytes = 512;
        limits.max_header_bytes = 256;
        limits.max_depth = 4;
        limits.max_attributes = 4;
        limits.max_name_bytes = 16;
    }
    std::vector<std::size_t> pattern;
    switch (mode & 0x3) {
    case 0: pattern = {1}; break;
    case 1: pattern = {static_cast<std::size_t>(1 + ((mode >> 2) & 0x1F))}; break;
    default:
        // Chunk sizes taken from the input itself.
        for (std::size_t i = 0; i < input.size() && pattern.size() < 16; i += 7)
            pattern.push_back(1 + static_cast<unsigned char>(input[i]) % 23);
        if (pattern.empty()) pattern = {3};
        break;
    }
    if (run(input, pattern, limits) != run(input, {0}, limits)) violated();
    return 0;
}
