#pragma once

#include <string>
#include <string_view>

namespace tern::xml {

// Stream-level XML errors, named after RFC 6120 §4.9.3 conditions (the session maps them 1:1).
enum class ErrorCondition {
    NotWellFormed,        // violates XML 1.0 or Namespaces in XML (incl. undeclared prefixes)
    RestrictedXml,        // comments, PIs, DTDs, undefined entities (RFC 6120 §11.1)
    PolicyViolation,      // a Limits value was exceeded
    InvalidNamespace,     // stream element not in http://etherx.jabber.org/streams
    BadFormat,            // well-formed but not an XMPP stream (e.g. root is not <stream>)
    UnsupportedEncoding,  // XML declaration names an encoding other than UTF-8
};

// The RFC 6120 element name, e.g. "not-well-formed".
std::string_view to_string(ErrorCondition condition) noexcept;

struct Error {
    ErrorCondition condition = ErrorCondition::NotWellFormed;
    std::string text;  // for logs; never sent to the peer verbatim
};

}  // namespace tern::xml
