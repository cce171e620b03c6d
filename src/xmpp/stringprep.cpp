#include "xmpp/stringprep.hpp"

#include <stringprep.h>

#include <algorithm>
#include <cstring>

namespace tern::xmpp {

namespace {

const Stringprep_profile* libidn_profile(PrepProfile profile) noexcept
{
    switch (profile) {
    case PrepProfile::Nodeprep: return stringprep_xmpp_nodeprep;
    case PrepProfile::Resourceprep: return stringprep_xmpp_resourceprep;
    case PrepProfile::Nameprep: return stringprep_nameprep;
    case PrepProfile::Saslprep: return stringprep_saslprep;
    }
    return nullptr;
}

bool is_ascii(std::string_view text) noexcept
{
    return std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// What each profile does to an ASCII code point. No ASCII character is unassigned, mapped to nothing,
// changed by NFKC or bidi-relevant, so only case folding (B.2) and the prohibition tables matter:
// C.2.1 (controls) for nodeprep, resourceprep and saslprep, C.1.1 (space) and RFC 6122's extra list for
// nodeprep; nameprep prohibits no ASCII at all.
bool ascii_prohibited(PrepProfile profile, unsigned char c) noexcept
{
    if (profile == PrepProfile::Nameprep) return false;
    if (c < 0x20 || c == 0x7F) return true;
    if (profile != PrepProfile::Nodeprep) return false;
    switch (c) {
    case ' ': case '"': case '&': case '\'': case '/': case ':': case '<': case '>': case '@': return true;
    default: return false;
    }
}

bool ascii_case_folds(PrepProfile profile) noexcept
{
    return profile == PrepProfile::Nodeprep || profile == PrepProfile::Nameprep;
}

std::optional<std::string> stringprep_ascii(PrepProfile profile, std::string_view text)
{
    std::string out(text);
    const bool fold = ascii_case_folds(profile);
    for (char& ch : out) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == 0 || ascii_prohibited(profile, c)) return std::nullopt;
        if (fold && c >= 'A' && c <= 'Z') ch = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept
{
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    while (p < end) {
        const unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        std::size_t len = 0;
        unsigned char lo = 0x80;
        unsigned char hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;   // overlong
            if (c == 0xED) hi = 0x9F;   // surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;   // overlong
            if (c == 0xF4) hi = 0x8F;   // above U+10FFFF
        } else {
            return false;
        }
        if (static_cast<std::size_t>(end - p) < len) return false;
        if (p[1] < lo || p[1] > hi) return false;
        for (std::size_t i = 2; i < len; ++i)
            if (p[i] < 0x80 || p[i] > 0xBF) return false;
        p += len;
    }
    return true;
}

namespace detail {

std::optional<std::string> stringprep_libidn(PrepProfile profile, std::string_view text)
{
    // libidn reads a NUL-terminated string, so an embedded NUL would silently truncate the input.
    if (text.find('\0') != std::string_view::npos || !is_valid_utf8(text)) return std::nullopt;
    // stringprep() works in place; the capacity only bounds the output (NFKC may expand it).
    std::string buf;
    for (std::size_t cap = text.size() * 2 + 16;; cap *= 2) {
        buf.assign(cap, '\0');
        std::memcpy(buf.data(), text.data(), text.size());
        const int rc = ::stringprep(buf.data(), buf.size(), STRINGPREP_NO_UNASSIGNED, libidn_profile(profile));
        if (rc == STRINGPREP_OK) break;
        if (rc != STRINGPREP_TOO_SMALL_BUFFER) return std::nullopt;
    }
    buf.resize(std::strlen(buf.c_str()));
    return buf;
}

}  // namespace detail

std::optional<std::string> stringprep(PrepProfile profile, std::string_view text)
{
    if (is_ascii(text)) return stringprep_ascii(profile, text);
    return detail::stringprep_libidn(profile, text);
}

}  // namespace tern::xmpp
