#pragma once

// Incremental framer for an XMPP stream: finds the stream header, each complete depth-1 element (stanza or
// nonza) and the stream close, and enforces well-formedness, RFC 6120 restricted XML, UTF-8 / XML 1.0 Char
// validity, namespace-prefix declarations and size limits on the way. It never builds a tree: stanza bytes
// go to Stanza::parse.
//
// Error conditions chosen where RFC 6120 leaves room:
// - an undeclared prefix (element or attribute), `xmlns:p=''`, rebinding `xml`/`xmlns`: not-well-formed
//   (violations of Namespaces in XML, RFC 6120 §4.9.3.13);
// - the root element not in the streams namespace (including an undeclared root prefix):
//   invalid-namespace (§4.9.3.10); root in that namespace but not named `stream`: bad-format;
// - comments, PIs (including `<?xml` after the stream start), `<!DOCTYPE`/`<!ENTITY`, undefined
//   entities: restricted-xml (§11.1).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xml/error.hpp"
#include "xml/inline_stack.hpp"
#include "xml/namespace_scope.hpp"

namespace tern::xml {

struct Limits {
    std::size_t max_stanza_bytes = 65536;  // one depth-1 element, from '<' to '>'
    std::size_t max_header_bytes = 4096;   // XML declaration + stream start tag
    std::size_t max_depth = 32;            // nesting inside a stanza (the stanza itself is depth 1)
    std::size_t max_attributes = 32;       // per element
    std::size_t max_name_bytes = 256;      // qualified names and entity names
};

// The parsed stream start tag. Values are unescaped.
class StreamHeader {
public:
    struct Attribute {
        std::string_view qname;
        std::string_view value;
    };

    std::string_view qname() const noexcept { return view(qname_); }
    // The streams namespace once a header has been read (the tokenizer rejects any other), else empty.
    std::string_view ns() const noexcept { return in_streams_ns_ ? stream_ns : std::string_view{}; }
    std::string_view local_name() const noexcept;
    // Empty if absent.
    std::string_view attr(std::string_view qname) const noexcept;
    bool has_attr(std::string_view qname) const noexcept;
    std::size_t attribute_count() const noexcept { return attrs_.size(); }
    Attribute attribute(std::size_t i) const noexcept { return {view(attrs_[i].qname), view(attrs_[i].value)}; }
    // Bindings declared on the stream element; stanzas inherit them (Stanza::parse takes this).
    const NamespaceScope& scope() const noexcept { return scope_; }

    std::string_view to() const noexcept { return attr("to"); }
    std::string_view from() const noexcept { return attr("from"); }
    std::string_view id() const noexcept { return attr("id"); }
    std::string_view version() const noexcept { return attr("version"); }
    std::string_view lang() const noexcept { return attr("xml:lang"); }

private:
    friend class Tokenizer;
    struct Span {
        std::uint32_t offset = 0;
        std::uint32_t size = 0;
    };
    struct Attr {
        Span qname;
        Span value;
    };
    std::string_view view(Span s) const noexcept { return std::string_view(data_).substr(s.offset, s.size); }
    Span store(std::string_view s);
    void clear() noexcept;
    void drop_attributes();

    std::string data_;
    Span qname_;
    bool in_streams_ns_ = false;
    std::vector<Attr> attrs_;
    NamespaceScope scope_;
};

enum class EventKind { NeedMore, StreamOpen, Stanza, StreamClose, Error };

// `bytes` points into the tokenizer and stays valid until the next feed() or next().
// StreamOpen: XML declaration (if any) + stream start tag. Stanza: exactly one depth-1 element.
// StreamClose: the end tag (empty for a self-closed `<stream:stream/>`).
// `prefixes` (Stanza only): false when no element or attribute of the stanza uses or declares a namespace
// prefix other than xml:, which lets Stanza::parse skip its namespace walk.
struct Event {
    EventKind kind = EventKind::NeedMore;
    std::string_view bytes;
    bool prefixes = true;
};

class Tokenizer {
public:
    explicit Tokenizer(Limits limits = {});

    // Appends bytes. Whitespace keepalives between stanzas are dropped without being buffered; data fed
    // after an error is ignored.
    void feed(std::string_view bytes);
    // The next event, or NeedMore when the buffered bytes end inside a construct. After an Error every
    // call returns Error.
    Event next();

    // Valid after StreamOpen, until restart().
    const StreamHeader& header() const noexcept { return header_; }
    // Frees the header's attributes once the caller has read them; what stanzas need (the root name and
    // the namespace scope) stays. attr() and attribute_count() then report none, until the next header.
    void drop_header_attributes() { header_.drop_attributes(); }
    const Error& error() const noexcept { return error_; }

    // Stream restart (after STARTTLS or SASL success): a new stream header is expected next. Bytes fed but
    // not yet returned in an event are kept and scanned again as the start of the new stream.
    void restart();
    // Bytes fed but not returned in an event, not counting whitespace (a keepalive after <starttls/> is
    // harmless; anything else there is plaintext injection).
    std::size_t unconsumed() const noexcept;
    // Heap held right now (buffer, parse stacks, stream header); only the header for an idle tokenizer
    // between stanzas.
    std::size_t heap_bytes() const noexcept;

private:
    enum class State : std::uint8_t;
    enum class Phase : std::uint8_t { Prolog, Header, Stream, Closed, Failed };

    struct AttrRec {
        std::uint32_t name;   // offsets relative to elem_start_
        std::uint16_t name_size;
        std::uint16_t prefix_size;  // 0 if unprefixed
        std::uint32_t value;
        std::uint32_t value_size;
    };
    struct OpenElem {
        std::uint32_t name;  // relative to elem_start_
        std::uint32_t size;
    };
    struct NsDecl {
        std::uint32_t prefix;  // offsets relative to elem_start_
        std::uint16_t size;
        std::uint16_t depth;
        std::uint32_t uri;  // raw (still escaped) attribute value
        std::uint32_t uri_size;
    };

    Event scan();
    Event fail(ErrorCondition condition, std::string text);
    Event emit(EventKind kind, std::size_t end);
    bool finish_start_tag(bool empty, Event& out);
    bool end_tag(Event& out);
    void pop_ns_decls() noexcept;
    bool check_names(bool header);
    bool is_duplicate(std::string_view name) const noexcept;
    bool build_header();
    bool parse_xml_declaration(std::string_view decl);
    // The URI bound to a prefix: raw from a declaration inside the stanza, unescaped from the header.
    std::optional<std::string_view> prefix_uri(std::string_view prefix, bool header) const noexcept;
    bool check_expanded_duplicates(bool header);
    std::string_view rel(std::uint32_t offset, std::size_t size) const noexcept
    {
        return std::string_view(buf_.data() + elem_start_ + offset, size);
    }
    void release_if_idle();

    // The stacks of the element being scanned. They exist only while in_element_, so a tokenizer that is
    // idle between stanzas (most of a session's life) does not carry them.
    struct Scratch {
        detail::InlineStack<OpenElem, 16> open;
        detail::InlineStack<AttrRec, 16> attrs;
        std::vector<NsDecl> ns_decls;
    };

    Limits limits_;
    std::string buf_;
    std::size_t consumed_ = 0;    // bytes before this are done with (returned or dropped)
    std::size_t pos_ = 0;         // scan position
    std::size_t elem_start_ = 0;  // start of the header / stanza / end tag being scanned
    std::size_t limit_ = 0;       // max bytes from elem_start_ while in_element_
    bool in_element_ = false;
    bool decl_allowed_ = true;
    bool had_space_ = false;
    bool tag_has_prefixes_ = false;
    bool stanza_has_prefixes_ = false;
    bool pending_close_ = false;
    char quote_ = '"';
    Phase phase_ = Phase::Prolog;
    State state_;
    State ref_return_;
    std::uint32_t mark_ = 0;  // start of the current name / reference / CDATA body, relative to elem_start_
    std::uint8_t match_ = 0;  // progress through "CDATA["
    OpenElem current_{};      // element whose start tag is being scanned
    std::uint16_t current_prefix_ = 0;
    std::uint64_t attr_keys_ = 0;  // hash bits of this start tag's attribute names: skips most duplicate scans
    std::unique_ptr<Scratch> scratch_;
    StreamHeader header_;
    Error error_;
};

}  // namespace tern::xml
