#include "xmpp/jid.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "xmpp/stringprep.hpp"

namespace tern::xmpp {

namespace {

constexpr std::size_t max_part_bytes = 1023;
// No legitimate part shrinks by a factor of four during preparation (only characters mapped to nothing
// shrink it); refusing longer input up front bounds the work an attacker can ask for.
constexpr std::size_t max_input_bytes = 4 * max_part_bytes;
constexpr std::size_t max_label_bytes = 63;

// "[v6]" → "[canonical v6]" (RFC 5952 form as produced by inet_ntop), so equal addresses compare equal.
std::optional<std::string> normalize_ipv6_literal(std::string_view domain)
{
    if (domain.size() < 2 || domain.back() != ']') return std::nullopt;
    const std::string_view inner = domain.substr(1, domain.size() - 2);
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (inner.size() >= text.size()) return std::nullopt;
    std::memcpy(text.data(), inner.data(), inner.size());
    in6_addr addr{};
    if (inet_pton(AF_INET6, text.data(), &addr) != 1) return std::nullopt;
    if (inet_ntop(AF_INET6, &addr, text.data(), text.size()) == nullptr) return std::nullopt;
    return "[" + std::string(text.data()) + "]";
}

bool is_ipv4_literal(const std::string& domain)
{
    in_addr addr{};
    return inet_pton(AF_INET, domain.c_str(), &addr) == 1;
}

bool is_ldh(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// STD3 host name rules on each prepared label: 1..63 bytes, ASCII code points limited to letters, digits
// and '-' (upper case is already folded), no leading or trailing '-'. Non-ASCII code points are left to
// nameprep.
bool labels_valid(std::string_view domain)
{
    while (true) {
        const std::size_t dot = domain.find('.');
        const std::string_view label = domain.substr(0, dot);
        if (label.empty() || label.size() > max_label_bytes) return false;
        if (label.front() == '-' || label.back() == '-') return false;
        for (char c : label)
            if (static_cast<unsigned char>(c) < 0x80 && !is_ldh(c)) return false;
        if (dot == std::string_view::npos) return true;
        domain.remove_prefix(dot + 1);
    }
}

// IDNA (RFC 3490 §3.1) label separators other than '.' that can survive nameprep: U+3002 (U+FF61 maps to
// it under NFKC; U+FF0E maps to '.').
void map_ideographic_full_stops(std::string& domain)
{
    constexpr std::string_view ideographic_full_stop = "\xE3\x80\x82";
    std::size_t at = 0;
    while ((at = domain.find(ideographic_full_stop, at)) != std::string::npos) {
        domain.replace(at, ideographic_full_stop.size(), ".");
        ++at;
    }
}

bool all_digits_and_dots(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

expected<std::string, JidError> prep_part(std::string_view text, PrepProfile profile, JidError empty,
                                          JidError too_long, JidError invalid)
{
    if (text.size() > max_input_bytes) return make_unexpected(too_long);
    std::optional<std::string> prepared = stringprep(profile, text);
    if (!prepared) return make_unexpected(invalid);
    if (prepared->empty()) return make_unexpected(empty);
    if (prepared->size() > max_part_bytes) return make_unexpected(too_long);
    return std::move(*prepared);
}

}  // namespace

std::string_view to_string(JidError e)
{
    switch (e) {
    case JidError::Empty: return "empty domainpart";
    case JidError::LocalTooLong: return "localpart too long";
    case JidError::DomainTooLong: return "domainpart too long";
    case JidError::ResourceTooLong: return "resourcepart too long";
    case JidError::EmptyLocal: return "empty localpart";
    case JidError::EmptyResource: return "empty resourcepart";
    case JidError::InvalidLocal: return "invalid localpart";
    case JidError::InvalidDomain: return "invalid domainpart";
    case JidError::InvalidResource: return "invalid resourcepart";
    }
    return "unknown JID error";
}

expected<std::string, JidError> Jid::prep_local(std::string_view local)
{
    return prep_part(local, PrepProfile::Nodeprep, JidError::EmptyLocal, JidError::LocalTooLong,
                     JidError::InvalidLocal);
}

expected<std::string, JidError> Jid::prep_resource(std::string_view resource)
{
    return prep_part(resource, PrepProfile::Resourceprep, JidError::EmptyResource, JidError::ResourceTooLong,
                     JidError::InvalidResource);
}

expected<std::string, JidError> Jid::prep_domain(std::string_view domain)
{
    if (domain.empty()) return make_unexpected(JidError::Empty);
    if (domain.size() > max_input_bytes) return make_unexpected(JidError::DomainTooLong);
    if (domain.front() == '[') {
        std::optional<std::string> literal = normalize_ipv6_literal(domain);
        if (!literal) return make_unexpected(JidError::InvalidDomain);
        return std::move(*literal);
    }
    std::optional<std::string> prepared = stringprep(PrepProfile::Nameprep, domain);
    if (!prepared) return make_unexpected(JidError::InvalidDomain);
    std::string& name = *prepared;
    map_ideographic_full_stops(name);
    if (!name.empty() && name.back() == '.') name.pop_back();  // fully qualified form (RFC 6122 §2.2)
    if (name.empty()) return make_unexpected(JidError::Empty);
    if (name.size() > max_part_bytes) return make_unexpected(JidError::DomainTooLong);
    if (all_digits_and_dots(name)) {
        // Dotted digits are an IPv4 literal or nothing: a numeric top-level label is not a host name.
        if (!is_ipv4_literal(name)) return make_unexpected(JidError::InvalidDomain);
        return std::move(name);
    }
    if (!labels_valid(name)) return make_unexpected(JidError::InvalidDomain);
    return std::move(name);
}

expected<Jid, JidError> Jid::make(std::string_view local, std::string_view domain, std::string_view resource)
{
    auto d = prep_domain(domain);
    if (!d) return make_unexpected(d.error());
    std::string l;
    if (!local.empty()) {
        auto p = prep_local(local);
        if (!p) return make_unexpected(p.error());
        l = std::move(*p);
    }
    std::string r;
    if (!resource.empty()) {
        auto p = prep_resource(resource);
        if (!p) return make_unexpected(p.error());
        r = std::move(*p);
    }
    return Jid(std::move(l), std::move(*d), std::move(r));
}

// RFC 7622 §3.1: the first '/' starts the resourcepart (which may itself contain '@' and '/'); the first
// '@' before it ends the localpart.
expected<Jid, JidError> Jid::parse(std::string_view text)
{
    std::string_view resource;
    const std::size_t slash = text.find('/');
    if (slash != std::string_view::npos) {
        resource = text.substr(slash + 1);
        text = text.substr(0, slash);
    }
    std::string_view local;
    const std::size_t at = text.find('@');
    if (at != std::string_view::npos) {
        local = text.substr(0, at);
        text = text.substr(at + 1);
    }
    if (text.empty()) return make_unexpected(JidError::Empty);
    if (at != std::string_view::npos && local.empty()) return make_unexpected(JidError::EmptyLocal);
    if (slash != std::string_view::npos && resource.empty()) return make_unexpected(JidError::EmptyResource);
    return make(local, text, resource);
}

Jid Jid::bare() const
{
    return Jid(local_, domain_, {});
}

Jid Jid::with_resource(std::string resource) const
{
    return Jid(local_, domain_, std::move(resource));
}

std::string Jid::bare_str() const
{
    std::string out;
    out.reserve(local_.size() + 1 + domain_.size());
    if (!local_.empty()) {
        out += local_;
        out += '@';
    }
    out += domain_;
    return out;
}

std::string Jid::str() const
{
    std::string out;
    out.reserve(local_.size() + domain_.size() + resource_.size() + 2);
    if (!local_.empty()) {
        out += local_;
        out += '@';
    }
    out += domain_;
    if (!resource_.empty()) {
        out += '/';
        out += resource_;
    }
    return out;
}

}  // namespace tern::xmpp

std::size_t std::hash<tern::xmpp::Jid>::operator()(const tern::xmpp::Jid& j) const noexcept
{
    const std::hash<std::string> h;
    std::size_t seed = h(j.local());
    for (const std::string* part : {&j.domain(), &j.resource()})
        seed ^= h(*part) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
    return seed;
}
