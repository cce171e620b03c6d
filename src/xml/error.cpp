#include "xml/error.hpp"

namespace tern::xml {

std::string_view to_string(ErrorCondition condition) noexcept
{
    switch (condition) {
    case ErrorCondition::NotWellFormed: return "not-well-formed";
    case ErrorCondition::RestrictedXml: return "restricted-xml";
    case ErrorCondition::PolicyViolation: return "policy-violation";
    case ErrorCondition::InvalidNamespace: return "invalid-namespace";
    case ErrorCondition::BadFormat: return "bad-format";
    case ErrorCondition::UnsupportedEncoding: return "unsupported-encoding";
    }
    return "bad-format";
}

}  // namespace tern::xml
