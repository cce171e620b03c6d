#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tern::xml {

inline constexpr std::string_view xml_ns = "http://www.w3.org/XML/1998/namespace";
inline constexpr std::string_view xmlns_ns = "http://www.w3.org/2000/xmlns/";
inline constexpr std::string_view stream_ns = "http://etherx.jabber.org/streams";

// Prefix -> namespace URI bindings ("" is the default namespace). "xml" is always bound to xml_ns.
// All bindings live in one string, so a scope costs one allocation and copies cheaply.
class NamespaceScope {
public:
    // A later binding of the same prefix shadows the earlier one.
    void bind(std::string_view prefix, std::string_view uri);
    // nullopt if the prefix is not bound; the default namespace may be bound to "" (no namespace).
    std::optional<std::string_view> lookup(std::string_view prefix) const noexcept;
    // URI of unprefixed elements: the default binding, or "" if none.
    std::string_view default_ns() const noexcept
    {
        return std::string_view(data_).substr(default_offset_, default_size_);
    }
    std::size_t size() const noexcept { return count_; }
    // i-th binding in declaration order.
    std::pair<std::string_view, std::string_view> binding(std::size_t i) const noexcept;
    void clear() noexcept;

private:
    std::string data_;  // prefix '\0' uri '\0' ...
    std::size_t count_ = 0;
    std::size_t default_offset_ = 0;  // the latest "" binding, cached: every unprefixed element needs it
    std::size_t default_size_ = 0;
};

}  // namespace tern::xml
