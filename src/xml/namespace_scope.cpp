#include "xml/namespace_scope.hpp"

namespace tern::xml {

void NamespaceScope::bind(std::string_view prefix, std::string_view uri)
{
    data_.append(prefix).push_back('\0');
    if (prefix.empty()) {
        default_offset_ = data_.size();
        default_size_ = uri.size();
    }
    data_.append(uri).push_back('\0');
    ++count_;
}

std::optional<std::string_view> NamespaceScope::lookup(std::string_view prefix) const noexcept
{
    if (prefix == "xml") return xml_ns;
    std::optional<std::string_view> found;
    std::string_view rest = data_;
    while (!rest.empty()) {
        const std::size_t p_end = rest.find('\0');
        const std::size_t u_end = rest.find('\0', p_end + 1);
        if (rest.substr(0, p_end) == prefix) found = rest.substr(p_end + 1, u_end - p_end - 1);
        rest.remove_prefix(u_end + 1);
    }
    return found;
}

std::pair<std::string_view, std::string_view> NamespaceScope::binding(std::size_t i) const noexcept
{
    std::string_view rest = data_;
    for (;;) {
        const std::size_t p_end = rest.find('\0');
        const std::size_t u_end = rest.find('\0', p_end + 1);
        if (i-- == 0) return {rest.substr(0, p_end), rest.substr(p_end + 1, u_end - p_end - 1)};
        rest.remove_prefix(u_end + 1);
    }
}

void NamespaceScope::clear() noexcept
{
    std::string().swap(data_);
    count_ = 0;
    default_offset_ = default_size_ = 0;
}

}  // namespace tern::xml
