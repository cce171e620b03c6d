#pragma once

// A parsed depth-1 element (stanza or nonza) over a pugixml fragment, with namespaces resolved.
//
// Stanza::parse normalizes the tree so that namespaces need no scope stack afterwards:
// - the root carries an explicit xmlns (inherited from the stream header if it had none);
// - prefixed elements lose their prefix and get an explicit xmlns (`<stream:features>` becomes
//   `<features xmlns='http://etherx.jabber.org/streams'>`), and any element whose namespace differs from
//   the default it would inherit gets one too;
// - an element with a prefixed attribute (other than xml:) declares that prefix itself.
// So an element's namespace is the xmlns of its nearest ancestor-or-self, and serialize() output is
// self-contained, ready to be written into another stream.

#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include <pugixml.hpp>

#include "base/expected.hpp"
#include "xml/error.hpp"
#include "xml/namespace_scope.hpp"
#include "xml/tokenizer.hpp"

namespace tern::xml {

// A light handle on an element of a Stanza (or of any normalized tree); falsy if empty. Valid while the
// owning Stanza lives.
class ElementRange;

class Element {
public:
    Element() = default;
    explicit Element(pugi::xml_node node) noexcept : node_(node.type() == pugi::node_element ? node : pugi::xml_node()) {}

    explicit operator bool() const noexcept { return static_cast<bool>(node_); }

    std::string_view name() const noexcept;  // local name
    std::string_view ns() const noexcept;    // namespace URI ("" if none)
    // Unescaped attribute value by qualified name; empty if missing.
    std::string_view attr(std::string_view qname) const noexcept;
    bool has_attr(std::string_view qname) const noexcept;
    // xml:lang of this element or its nearest ancestor inside the stanza; empty if none.
    std::string_view lang() const noexcept;
    // The first text (or CDATA) child, unescaped; empty if none.
    std::string_view text() const noexcept;
    // All direct text and CDATA children concatenated.
    std::string text_content() const;

    // First child element with this local name and namespace.
    Element child(std::string_view local_name, std::string_view ns) const noexcept;
    Element first_child_element() const noexcept;
    Element next_sibling_element() const noexcept;
    std::size_t child_count() const noexcept;  // element children only

    ElementRange children() const noexcept;

    // Adds or replaces an attribute (unprefixed or xml:). Not for xmlns declarations.
    void set_attr(std::string_view qname, std::string_view value);
    void remove_attr(std::string_view qname);

    // This element and its subtree, with an explicit xmlns on the element itself.
    std::string serialize() const;
    void serialize_to(std::string& out) const;

    pugi::xml_node node() const noexcept { return node_; }

private:
    friend class ElementIterator;
    pugi::xml_attribute find_attr(std::string_view qname) const noexcept;

    pugi::xml_node node_;
};

class ElementIterator {
public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Element;
    using difference_type = std::ptrdiff_t;
    using pointer = const Element*;
    using reference = const Element&;
    ElementIterator() = default;
    explicit ElementIterator(Element e) noexcept : e_(e) {}
    reference operator*() const noexcept { return e_; }
    pointer operator->() const noexcept { return &e_; }
    ElementIterator& operator++() noexcept
    {
        e_ = e_.next_sibling_element();
        return *this;
    }
    ElementIterator operator++(int) noexcept
    {
        ElementIterator old = *this;
        ++*this;
        return old;
    }
    bool operator==(const ElementIterator& o) const noexcept { return e_.node_ == o.e_.node_; }

private:
    Element e_;
};

class ElementRange {
public:
    explicit ElementRange(Element first) noexcept : first_(first) {}
    ElementIterator begin() const noexcept { return ElementIterator(first_); }
    ElementIterator end() const noexcept { return ElementIterator(); }

private:
    Element first_;
};

inline ElementRange Element::children() const noexcept
{
    return ElementRange(first_child_element());
}

class Stanza {
public:
    // Parses exactly one element (as framed by Tokenizer) and resolves its namespaces against the stream
    // header's scope. Errors: NotWellFormed for XML or namespace errors (including undeclared prefixes).
    static expected<Stanza, Error> parse(std::string_view element_bytes, const NamespaceScope& stream_scope);
    // The same for a Stanza event of the Tokenizer whose header declared `stream_scope`; when the framer saw
    // no namespace prefixes it skips the namespace walk (the result is identical).
    static expected<Stanza, Error> parse(const Event& stanza, const NamespaceScope& stream_scope);

    Stanza(Stanza&&) noexcept = default;
    Stanza& operator=(Stanza&&) noexcept = default;

    Element root() const noexcept { return Element(doc_->document_element()); }
    std::string_view name() const noexcept { return root().name(); }
    std::string_view ns() const noexcept { return root().ns(); }
    std::string_view attr(std::string_view qname) const noexcept { return root().attr(qname); }
    std::string_view lang() const noexcept { return root().lang(); }
    std::string_view id() const noexcept { return attr("id"); }
    std::string_view type() const noexcept { return attr("type"); }
    std::string_view to() const noexcept { return attr("to"); }
    std::string_view from() const noexcept { return attr("from"); }
    void set_attr(std::string_view qname, std::string_view value) { root().set_attr(qname, value); }
    void remove_attr(std::string_view qname) { root().remove_attr(qname); }

    std::string serialize() const { return root().serialize(); }
    void serialize_to(std::string& out) const { root().serialize_to(out); }

private:
    explicit Stanza(std::unique_ptr<pugi::xml_document> doc) noexcept : doc_(std::move(doc)) {}

    std::unique_ptr<pugi::xml_document> doc_;
};

}  // namespace tern::xml
