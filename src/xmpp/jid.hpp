#pragma once

// XMPP addresses (RFC 6120/6122 stringprep profiles through libidn): localpart@domainpart/resourcepart.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "base/expected.hpp"

namespace tern::xmpp {

enum class JidError {
    Empty,              // no domainpart
    LocalTooLong,       // any part over 1023 bytes after preparation
    DomainTooLong,
    ResourceTooLong,
    EmptyLocal,         // "@example.com"
    EmptyResource,      // "example.com/"
    InvalidLocal,       // prohibited characters, bad UTF-8, nodeprep failure
    InvalidDomain,
    InvalidResource,
};

std::string_view to_string(JidError e);

class Jid {
public:
    Jid() = default;

    // RFC 7622 §3.1 split, then each part prepared (nodeprep / nameprep + host name rules / resourceprep).
    // Domainparts: one trailing dot is dropped, IPv4 literals are kept, [IPv6] literals are normalized.
    static expected<Jid, JidError> parse(std::string_view text);
    // Empty local or resource means "absent".
    static expected<Jid, JidError> make(std::string_view local, std::string_view domain, std::string_view resource = {});

    // Each part on its own (used by SASL usernames and binding): the prepared form or an error.
    static expected<std::string, JidError> prep_local(std::string_view local);
    static expected<std::string, JidError> prep_domain(std::string_view domain);
    static expected<std::string, JidError> prep_resource(std::string_view resource);

    const std::string& local() const { return local_; }
    const std::string& domain() const { return domain_; }
    const std::string& resource() const { return resource_; }

    bool empty() const { return domain_.empty(); }
    bool is_bare() const { return resource_.empty(); }
    bool is_domain() const { return local_.empty() && resource_.empty(); }

    Jid bare() const;
    Jid with_resource(std::string resource) const;  // resource must already be prepared

    std::string str() const;       // local@domain/resource
    std::string bare_str() const;  // local@domain

    friend bool operator==(const Jid&, const Jid&) = default;

private:
    Jid(std::string local, std::string domain, std::string resource)
        : local_(std::move(local)), domain_(std::move(domain)), resource_(std::move(resource)) {}

    std::string local_;
    std::string domain_;
    std::string resource_;
};

}  // namespace tern::xmpp

template <>
struct std::hash<tern::xmpp::Jid> {
    std::size_t operator()(const tern::xmpp::Jid& j) const noexcept;
};
