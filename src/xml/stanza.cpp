#include "xml/stanza.hpp"

#include <cstring>
#include <forward_list>

#include "xml/inline_stack.hpp"
#include "xml/writer.hpp"

namespace tern::xml {

namespace {

constexpr unsigned parse_flags = pugi::parse_default & ~pugi::parse_eol;

std::string_view sv(const char* s) noexcept { return std::string_view(s); }

// NUL-terminated `s` equals `name`, without strlen.
bool name_equals(const char* s, std::string_view name) noexcept
{
    for (char c : name) {
        if (*s != c) return false;
        ++s;
    }
    return *s == 0;
}

// A name split at its colon in one pass (no strlen + memchr per name: this runs for every element and
// attribute of every stanza).
struct QName {
    std::string_view full;
    std::size_t colon = std::string_view::npos;
    bool valid = true;

    explicit QName(const char* s) noexcept
    {
        std::size_t i = 0;
        for (; s[i] != 0; ++i) {
            if (s[i] != ':') continue;
            if (colon != std::string_view::npos) valid = false;
            colon = i;
        }
        full = std::string_view(s, i);
        if (colon == 0 || (colon != std::string_view::npos && colon + 1 == i)) valid = false;
    }
    bool prefixed() const noexcept { return colon != std::string_view::npos; }
    std::string_view prefix() const noexcept { return prefixed() ? full.substr(0, colon) : std::string_view{}; }
    std::string_view local() const noexcept { return prefixed() ? full.substr(colon + 1) : full; }
};

bool same(std::string_view a, std::string_view b) noexcept
{
    return (a.data() == b.data() && a.size() == b.size()) || a == b;
}

Error not_well_formed(std::string text)
{
    return Error{ErrorCondition::NotWellFormed, std::move(text)};
}

struct StringWriter final : pugi::xml_writer {
    explicit StringWriter(std::string& s) : out(s) {}
    void write(const void* data, std::size_t size) override { out.append(static_cast<const char*>(data), size); }
    std::string& out;
};

// Resolves every element's namespace and rewrites the tree into the normalized form described in
// stanza.hpp. Iterative walk; scope entries point into attribute strings, which are never modified in
// place except through `owned_` copies.
class Normalizer {
public:
    explicit Normalizer(const NamespaceScope& stream) : stream_(stream), stream_default_(stream.default_ns()) {}

    expected<void, Error> run(pugi::xml_node root)
    {
        pugi::xml_node node = root;
        std::size_t depth = 0;
        for (;;) {
            if (auto r = process(node, depth); !r) return r;
            if (pugi::xml_node child = first_element(node)) {
                node = child;
                ++depth;
                continue;
            }
            for (;;) {
                leave(depth);
                if (node == root) return {};
                if (pugi::xml_node sibling = next_element(node)) {
                    node = sibling;
                    break;
                }
                node = node.parent();
                --depth;
            }
        }
    }

private:
    struct Decl {
        std::string_view prefix;
        std::string_view uri;
        std::size_t depth;
    };

    static pugi::xml_node first_element(pugi::xml_node n) noexcept
    {
        pugi::xml_node c = n.first_child();
        while (c && c.type() != pugi::node_element) c = c.next_sibling();
        return c;
    }
    static pugi::xml_node next_element(pugi::xml_node n) noexcept
    {
        pugi::xml_node c = n.next_sibling();
        while (c && c.type() != pugi::node_element) c = c.next_sibling();
        return c;
    }

    void leave(std::size_t depth) noexcept
    {
        while (!decls_.empty() && decls_.back().depth >= depth) decls_.pop_back();
        while (out_default_.size() > depth) out_default_.pop_back();
    }

    std::string_view lookup_default() const noexcept
    {
        for (std::size_t k = decls_.size(); k-- > 0;)
            if (decls_[k].prefix.empty()) return decls_[k].uri;
        return stream_default_;
    }

    std::optional<std::string_view> lookup(std::string_view prefix) const noexcept
    {
        if (prefix == "xml") return xml_ns;
        for (std::size_t k = decls_.size(); k-- > 0;)
            if (decls_[k].prefix == prefix) return decls_[k].uri;
        return stream_.lookup(prefix);
    }

    std::string_view own(std::string_view s)
    {
        owned_.emplace_front(s);
        return owned_.front();
    }

    expected<void, Error> process(pugi::xml_node el, std::size_t depth)
    {
        const QName qname(el.name());
        if (!qname.valid) return make_unexpected(not_well_formed("invalid qualified name"));
        pugi::xml_attribute default_decl;
        std::size_t prefixed_attrs = 0;
        for (pugi::xml_attribute a = el.first_attribute(); a; a = a.next_attribute()) {
            const QName name(a.name());
            if (!name.valid) return make_unexpected(not_well_formed("invalid qualified name"));
            if (name.full == "xmlns") {
                default_decl = a;
                decls_.push_back({{}, sv(a.value()), depth});
            } else if (name.prefix() == "xmlns") {
                const std::string_view prefix = name.local();
                const std::string_view uri = sv(a.value());
                if (prefix == "xmlns" || uri.empty() || (prefix == "xml") != (uri == xml_ns) || uri == xmlns_ns)
                    return make_unexpected(not_well_formed("illegal namespace declaration"));
                decls_.push_back({prefix, uri, depth});
            } else if (name.prefixed() && name.prefix() != "xml") {
                ++prefixed_attrs;
            }
        }

        const std::string_view prefix = qname.prefix();
        if (prefix == "xmlns") return make_unexpected(not_well_formed("element name with the xmlns prefix"));
        std::string_view ns;
        if (!qname.prefixed()) {
            ns = lookup_default();
        } else {
            const std::optional<std::string_view> resolved = lookup(prefix);
            if (!resolved)
                return make_unexpected(not_well_formed("undeclared namespace prefix '" + std::string(prefix) + "'"));
            ns = *resolved;
            // set_name may copy in place over the old name, so the local part must not alias it.
            el.set_name(std::string(qname.local()).c_str());
            if (default_decl && !same(sv(default_decl.value()), ns)) {
                // Children may still inherit the old default through decls_: keep a copy alive.
                for (std::size_t k = 0; k < decls_.size(); ++k)
                    if (decls_[k].depth == depth && decls_[k].prefix.empty()) decls_[k].uri = own(decls_[k].uri);
                ns = own(ns);
                default_decl.set_value(ns.data(), ns.size());
            }
        }
        if (!default_decl && (depth == 0 || !same(out_default_.back(), ns))) {
            pugi::xml_attribute a = el.prepend_attribute("xmlns");
            a.set_value(ns.data(), ns.size());
        }
        out_default_.push_back(ns);

        if (prefixed_attrs > 0) return declare_attribute_prefixes(el, prefixed_attrs);
        return {};
    }

    expected<void, Error> declare_attribute_prefixes(pugi::xml_node el, std::size_t count)
    {
        struct Resolved {
            std::string_view uri;
            std::string_view local;
        };
        detail::InlineStack<Resolved, 8> seen;
        std::string decl_name;
        for (pugi::xml_attribute a = el.first_attribute(); a && count > 0; a = a.next_attribute()) {
            const QName qname(a.name());
            const std::string_view name = qname.full;
            const std::string_view prefix = qname.prefix();
            if (!qname.prefixed() || prefix == "xmlns" || prefix == "xml") continue;
            --count;
            const std::optional<std::string_view> uri = lookup(prefix);
            if (!uri) return make_unexpected(not_well_formed("undeclared namespace prefix '" + std::string(prefix) + "'"));
            const std::string_view local = qname.local();
            for (std::size_t k = 0; k < seen.size(); ++k)
                if (seen[k].uri == *uri && seen[k].local == local)
                    return make_unexpected(not_well_formed("duplicate attribute '" + std::string(name) + "'"));
            seen.push_back({*uri, local});
            decl_name.assign("xmlns:").append(prefix);
            if (!el.attribute(decl_name.c_str())) el.append_attribute(decl_name.c_str()).set_value(uri->data(), uri->size());
        }
        return {};
    }

    const NamespaceScope& stream_;
    const std::string_view stream_default_;
    detail::InlineStack<Decl, 8> decls_;
    detail::InlineStack<std::string_view, 16> out_default_;
    std::forward_list<std::string> owned_;  // allocates nothing while empty
};

}  // namespace

// ---- Element ---------------------------------------------------------------------------------------

std::string_view Element::name() const noexcept
{
    return QName(node_.name()).local();
}

pugi::xml_attribute Element::find_attr(std::string_view qname) const noexcept
{
    for (pugi::xml_attribute a = node_.first_attribute(); a; a = a.next_attribute())
        if (name_equals(a.name(), qname)) return a;
    return {};
}

std::string_view Element::ns() const noexcept
{
    for (pugi::xml_node n = node_; n.type() == pugi::node_element; n = n.parent())
        if (pugi::xml_attribute a = Element(n).find_attr("xmlns")) return sv(a.value());
    return {};
}

std::string_view Element::attr(std::string_view qname) const noexcept
{
    return sv(find_attr(qname).value());
}

bool Element::has_attr(std::string_view qname) const noexcept
{
    return static_cast<bool>(find_attr(qname));
}

std::string_view Element::lang() const noexcept
{
    for (pugi::xml_node n = node_; n.type() == pugi::node_element; n = n.parent())
        if (pugi::xml_attribute a = Element(n).find_attr("xml:lang")) return sv(a.value());
    return {};
}

std::string_view Element::text() const noexcept
{
    return sv(node_.child_value());
}

std::string Element::text_content() const
{
    std::string out;
    for (pugi::xml_node c = node_.first_child(); c; c = c.next_sibling())
        if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
    return out;
}

Element Element::child(std::string_view local_name, std::string_view ns) const noexcept
{
    for (Element c = first_child_element(); c; c = c.next_sibling_element())
        if (c.name() == local_name && c.ns() == ns) return c;
    return {};
}

Element Element::first_child_element() const noexcept
{
    pugi::xml_node c = node_.first_child();
    while (c && c.type() != pugi::node_element) c = c.next_sibling();
    return Element(c);
}

Element Element::next_sibling_element() const noexcept
{
    pugi::xml_node c = node_.next_sibling();
    while (c && c.type() != pugi::node_element) c = c.next_sibling();
    return Element(c);
}

std::size_t Element::child_count() const noexcept
{
    std::size_t n = 0;
    for (Element c = first_child_element(); c; c = c.next_sibling_element()) ++n;
    return n;
}

void Element::set_attr(std::string_view qname, std::string_view value)
{
    pugi::xml_attribute a = find_attr(qname);
    if (!a) a = node_.append_attribute(std::string(qname).c_str());
    a.set_value(value.data(), value.size());
}

void Element::remove_attr(std::string_view qname)
{
    if (pugi::xml_attribute a = find_attr(qname)) node_.remove_attribute(a);
}

void Element::serialize_to(std::string& out) const
{
    if (!node_) return;
    const std::size_t start = out.size();
    StringWriter writer(out);
    node_.print(writer, "", pugi::format_raw, pugi::encoding_utf8);
    if (find_attr("xmlns")) return;
    // An inner element inherits its namespace: make it explicit right after "<name".
    std::string decl = " xmlns=\"";
    append_escaped_attr(decl, ns());
    decl += '"';
    out.insert(start + 1 + std::strlen(node_.name()), decl);
}

std::string Element::serialize() const
{
    std::string out;
    serialize_to(out);
    return out;
}

// ---- Stanza ----------------------------------------------------------------------------------------

namespace {

expected<std::unique_ptr<pugi::xml_document>, Error> load(std::string_view bytes)
{
    auto doc = std::make_unique<pugi::xml_document>();
    const pugi::xml_parse_result result = doc->load_buffer(bytes.data(), bytes.size(), parse_flags, pugi::encoding_utf8);
    if (!result) return make_unexpected(not_well_formed(result.description()));
    const pugi::xml_node root = doc->first_child();
    if (root.type() != pugi::node_element || root.next_sibling())
        return make_unexpected(not_well_formed("expected exactly one element"));
    return doc;
}

}  // namespace

expected<Stanza, Error> Stanza::parse(std::string_view element_bytes, const NamespaceScope& stream_scope)
{
    auto doc = load(element_bytes);
    if (!doc) return make_unexpected(std::move(doc.error()));
    Normalizer normalizer(stream_scope);
    if (auto r = normalizer.run((*doc)->first_child()); !r) return make_unexpected(std::move(r.error()));
    return Stanza(std::move(*doc));
}

expected<Stanza, Error> Stanza::parse(const Event& stanza, const NamespaceScope& stream_scope)
{
    if (stanza.prefixes) return parse(stanza.bytes, stream_scope);
    auto doc = load(stanza.bytes);
    if (!doc) return make_unexpected(std::move(doc.error()));
    // Without prefixes every element already inherits from its nearest xmlns; only the root may lack one.
    pugi::xml_node root = (*doc)->first_child();
    pugi::xml_attribute a = root.first_attribute();
    while (a && !name_equals(a.name(), "xmlns")) a = a.next_attribute();
    if (!a) {
        const std::string_view ns = stream_scope.default_ns();
        root.prepend_attribute("xmlns").set_value(ns.data(), ns.size());
    }
    return Stanza(std::move(*doc));
}

}  // namespace tern::xml
