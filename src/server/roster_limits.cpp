#include "server/roster_limits.hpp"

#include <vector>

#include "xml/writer.hpp"
#include "xmpp/ns.hpp"

namespace tern::server {

namespace {

constexpr std::string_view nick_ns = "http://jabber.org/protocol/nick";  // XEP-0172

int rank(const xml::Element& child)
{
    if (child.name() == "nick" && child.ns() == nick_ns) return 0;
    if (child.name() == "status") return 1;
    return 2;
}

std::string element_with(const xml::Element& root, std::string_view children)
{
    std::string out;
    xml::Writer w(out);
    w.open(root.name());
    if (!root.ns().empty()) w.attr("xmlns", root.ns());
    for (const pugi::xml_attribute a : root.node().attributes()) {
        const std::string_view name = a.name();
        if (name == "xmlns" || name.starts_with("xmlns:")) continue;
        w.attr(name, a.value());
    }
    if (!children.empty()) w.raw(children);
    w.close();
    return out;
}

}  // namespace

std::string stored_request(const xml::Stanza& request, std::size_t max_bytes)
{
    const xml::Element root = request.root();
    const std::string bare = element_with(root, {});
    if (bare.size() > max_bytes) return {};
    // With children the element ends in "></presence>" instead of "/>".
    const std::size_t frame = bare.size() + root.name().size() + 2;
    std::vector<std::pair<int, std::string>> kept;
    std::size_t used = frame;
    for (int wanted = 0; wanted <= 2; ++wanted) {
        for (const xml::Element child : root.children()) {
            if (rank(child) != wanted) continue;
            std::string bytes = child.serialize();
            if (used + bytes.size() > max_bytes) continue;
            used += bytes.size();
            kept.emplace_back(wanted, std::move(bytes));
        }
    }
    std::string children;
    for (const auto& [ignored, bytes] : kept) children += bytes;
    return element_with(root, children);
}

std::string stored_request(std::string_view serialized, std::size_t max_bytes)
{
    if (max_bytes == 0) return {};
    xml::NamespaceScope scope;
    scope.bind("", xmpp::ns::client);
    const auto request = xml::Stanza::parse(serialized, scope);
    if (!request) return {};
    return stored_request(*request, max_bytes);
}

}  // namespace tern::server
