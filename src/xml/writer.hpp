#pragma once

// Escaping serializer for outgoing XML. Everything appends to a caller-owned std::string, so a reply is
// built directly in the outbox buffer with no intermediate DOM.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "xml/namespace_scope.hpp"

namespace tern::xml {

// Character data: escapes & < > and \r (as &#13;, so a carriage return survives line-end normalization).
void append_escaped_text(std::string& out, std::string_view text);

// Attribute value (for use between either quote style): escapes & < > " ' and \t \n \r as character
// references, so they survive attribute-value normalization.
void append_escaped_attr(std::string& out, std::string_view value);

struct Attribute {
    std::string_view name;
    std::string_view value;
};

// `<?xml version='1.0'?><stream:stream xmlns='content_ns' xmlns:stream='...streams' attrs...>`, left open.
// content_ns is jabber:client or jabber:server; attrs are from/to/id/version/xml:lang as the caller needs.
void append_stream_header(std::string& out, std::string_view content_ns,
                          std::initializer_list<Attribute> attrs);
void append_stream_close(std::string& out);

// Streaming element builder. Names are taken as qualified names and written verbatim (callers pass
// constants); values and text are escaped. The open-element stack stores offsets into `out`, so `out` must
// only be appended to while elements are open. Up to 8 levels need no allocation.
class Writer {
public:
    explicit Writer(std::string& out) noexcept : out_(out) {}
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    Writer& open(std::string_view qname);
    // Only directly after open() or another attr().
    Writer& attr(std::string_view qname, std::string_view value);
    Writer& text(std::string_view text);
    // Already-serialized XML (e.g. Element::serialize() of a stanza being forwarded).
    Writer& raw(std::string_view serialized_xml);
    // `/>` if the element is empty, else `</name>`.
    Writer& close();
    // open + optional text + close.
    Writer& leaf(std::string_view qname, std::string_view text = {});
    void close_all();

    std::size_t depth() const noexcept { return depth_; }
    std::string& out() noexcept { return out_; }

private:
    struct Frame {
        std::uint32_t offset;
        std::uint32_t size;
    };
    void finish_start_tag();
    Frame& frame(std::size_t i) noexcept { return i < inline_.size() ? inline_[i] : overflow_[i - inline_.size()]; }

    std::string& out_;
    std::array<Frame, 8> inline_{};
    std::vector<Frame> overflow_;
    std::size_t depth_ = 0;
    bool start_tag_open_ = false;
};

}  // namespace tern::xml
