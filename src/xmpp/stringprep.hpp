#pragma once

// Stringprep (RFC 3454) profiles used by XMPP, through libidn, with unassigned code points rejected (the
// rule for stored strings). Pure-ASCII input takes an exact in-house fast path; any other input goes to
// libidn after a strict UTF-8 check (no overlongs, surrogates or code points above U+10FFFF).
#include <optional>
#include <string>
#include <string_view>

namespace tern::xmpp {

enum class PrepProfile {
    Nodeprep,      // RFC 6122 Appendix A: JID localpart
    Resourceprep,  // RFC 6122 Appendix B: JID resourcepart
    Nameprep,      // RFC 3491: domain names (no STD3 rules; Jid adds those)
    Saslprep,      // RFC 4013: SASL usernames and passwords
};

// The prepared string, or nullopt when the input is not valid UTF-8, contains NUL, or is rejected by the
// profile (prohibited or unassigned code points, bidi rules). An empty result is possible (e.g. only
// characters mapped to nothing); callers decide whether that is acceptable.
std::optional<std::string> stringprep(PrepProfile profile, std::string_view text);

inline std::optional<std::string> saslprep(std::string_view text)
{
    return stringprep(PrepProfile::Saslprep, text);
}

// Strict UTF-8 (RFC 3629).
bool is_valid_utf8(std::string_view text) noexcept;

namespace detail {
// Always libidn, never the ASCII fast path: the reference the fast path is tested against.
std::optional<std::string> stringprep_libidn(PrepProfile profile, std::string_view text);
}  // namespace detail

}  // namespace tern::xmpp
