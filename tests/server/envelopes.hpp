#pragma once

// Test input for what takes envelopes: each top-level element of `text`, its fields read by the parser and
// its bytes kept exactly as written (so outputs can be compared byte for byte).
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/envelope.hpp"
#include "xml/tokenizer.hpp"

namespace tern::test {

// Calls f(bytes, stanza) for every top-level element in `text` (one stanza or several back to back),
// in a jabber:client stream.
template <class F>
void for_each_element(std::string_view text, F&& f)
{
    xml::Tokenizer tokenizer;
    tokenizer.feed("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    tokenizer.feed(text);
    for (;;) {
        const xml::Event event = tokenizer.next();
        if (event.kind == xml::EventKind::StreamOpen) continue;
        if (event.kind != xml::EventKind::Stanza) break;
        auto stanza = xml::Stanza::parse(event, tokenizer.header().scope());
        REQUIRE(stanza);
        f(event.bytes, std::move(*stanza));
    }
    REQUIRE(tokenizer.unconsumed() == 0);
}

// Every top-level element in `text`, parsed.
inline std::vector<xml::Stanza> stanzas(std::string_view text)
{
    std::vector<xml::Stanza> out;
    for_each_element(text, [&](std::string_view, xml::Stanza&& stanza) { out.push_back(std::move(stanza)); });
    return out;
}

inline xml::Stanza stanza(std::string_view text)
{
    auto all = stanzas(text);
    REQUIRE(all.size() == 1);
    return std::move(all.front());
}

inline server::Envelopes envelopes(std::string_view text)
{
    server::Envelopes out;
    for_each_element(text, [&](std::string_view bytes, xml::Stanza&& stanza) {
        const auto parsed = server::Envelope::of(stanza);
        out.push_back(server::Envelope::make({parsed.kind(), parsed.to(), parsed.from(), parsed.type(), parsed.id()},
                                             std::string(bytes), parsed.request_payload()));
    });
    return out;
}

inline server::Envelope envelope(std::string_view text)
{
    auto all = envelopes(text);
    REQUIRE(all.size() == 1);
    return all.front();
}

// The bytes of a reply, empty when there is none.
inline std::string text(const std::optional<server::Envelope>& reply)
{
    return reply ? std::string(reply->bytes()) : std::string();
}

// The bytes of `list`, back to back.
inline std::string joined(const server::Envelopes& list)
{
    std::string out;
    for (const auto& e : list) out += e.bytes();
    return out;
}

}  // namespace tern::test
