#pragma once

// Byte classes, UTF-8 decoding and XML 1.0 character rules shared by the tokenizer (internal header).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tern::xml::detail {

enum : std::uint8_t {
    k_name_start = 1,  // ASCII NameStartChar
    k_name = 2,        // ASCII NameChar
    k_space = 4,       // S
    k_text = 8,        // character data needing no attention: not < & > and a valid Char
    k_attr = 16,       // attribute value byte needing no attention: not < & ' " and a valid Char
    k_cdata = 32,      // CDATA byte needing no attention: not > and a valid Char
};

struct ByteClasses {
    std::array<std::uint8_t, 256> v{};
    constexpr ByteClasses()
    {
        for (int c = 0x20; c < 0x80; ++c) v[c] = k_text | k_attr | k_cdata;
        for (int c : {'\t', '\n', '\r'}) v[c] = k_text | k_attr | k_cdata | k_space;
        v[' '] |= k_space;
        v['<'] &= static_cast<std::uint8_t>(~(k_text | k_attr));
        v['&'] &= static_cast<std::uint8_t>(~(k_text | k_attr));
        v['>'] &= static_cast<std::uint8_t>(~(k_text | k_cdata));
        v['\''] &= static_cast<std::uint8_t>(~k_attr);
        v['"'] &= static_cast<std::uint8_t>(~k_attr);
        for (int c = 'a'; c <= 'z'; ++c) v[c] |= k_name_start | k_name;
        for (int c = 'A'; c <= 'Z'; ++c) v[c] |= k_name_start | k_name;
        for (int c = '0'; c <= '9'; ++c) v[c] |= k_name;
        v['_'] |= k_name_start | k_name;
        v[':'] |= k_name_start | k_name;
        v['-'] |= k_name;
        v['.'] |= k_name;
    }
};

inline constexpr ByteClasses byte_classes;

inline bool has_class(unsigned char c, std::uint8_t cls) noexcept { return (byte_classes.v[c] & cls) != 0; }
inline bool is_space(unsigned char c) noexcept { return has_class(c, k_space); }

inline bool is_xml_char(std::uint32_t cp) noexcept
{
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
           (cp >= 0x10000 && cp <= 0x10FFFF);
}

// XML 1.0 (5th edition) NameStartChar / NameChar above ASCII.
inline bool is_name_start(std::uint32_t cp) noexcept
{
    return (cp >= 0xC0 && cp <= 0xD6) || (cp >= 0xD8 && cp <= 0xF6) || (cp >= 0xF8 && cp <= 0x2FF) ||
           (cp >= 0x370 && cp <= 0x37D) || (cp >= 0x37F && cp <= 0x1FFF) || (cp >= 0x200C && cp <= 0x200D) ||
           (cp >= 0x2070 && cp <= 0x218F) || (cp >= 0x2C00 && cp <= 0x2FEF) || (cp >= 0x3001 && cp <= 0xD7FF) ||
           (cp >= 0xF900 && cp <= 0xFDCF) || (cp >= 0xFDF0 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0xEFFFF);
}

inline bool is_name_char(std::uint32_t cp) noexcept
{
    return is_name_start(cp) || cp == 0xB7 || (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x203F && cp <= 0x2040);
}

// Decodes one multi-byte UTF-8 sequence at p (p[0] >= 0x80). Returns its length (2-4), 0 if the bytes up
// to end are a valid but incomplete prefix, -1 if the bytes are not UTF-8 or encode a non-Char
// (surrogates, U+FFFE, U+FFFF, beyond U+10FFFF, overlong forms).
inline int decode_utf8(const unsigned char* p, const unsigned char* end, std::uint32_t& cp) noexcept
{
    const unsigned lead = p[0];
    int n = 0;
    std::uint32_t v = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    if (lead < 0xC2) return -1;
    if (lead < 0xE0) {
        n = 2;
        v = lead & 0x1F;
    } else if (lead < 0xF0) {
        n = 3;
        v = lead & 0x0F;
        if (lead == 0xE0) lo = 0xA0;
        if (lead == 0xED) hi = 0x9F;
    } else if (lead < 0xF5) {
        n = 4;
        v = lead & 0x07;
        if (lead == 0xF0) lo = 0x90;
        if (lead == 0xF4) hi = 0x8F;
    } else {
        return -1;
    }
    for (int k = 1; k < n; ++k) {
        if (p + k >= end) return 0;
        const unsigned b = p[k];
        if (b < lo || b > hi) return -1;
        lo = 0x80;
        hi = 0xBF;
        v = (v << 6) | (b & 0x3F);
    }
    if (v == 0xFFFE || v == 0xFFFF) return -1;
    cp = v;
    return n;
}

inline void append_utf8(std::string& out, std::uint32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Fast skips: return the first position in [i, end) whose byte is not of the class (or end). The SSE2 paths
// stop at a superset of those bytes (any byte < 0x20 or >= 0x80); callers handle such bytes one by one.
inline std::size_t skip_class(const unsigned char* b, std::size_t i, std::size_t end, std::uint8_t cls) noexcept
{
    while (i < end && has_class(b[i], cls)) ++i;
    return i;
}

#if defined(__SSE2__)
inline std::size_t skip_sse2(const unsigned char* b, std::size_t i, std::size_t end, char s1, char s2, char s3) noexcept
{
    const __m128i c1 = _mm_set1_epi8(s1);
    const __m128i c2 = _mm_set1_epi8(s2);
    const __m128i c3 = _mm_set1_epi8(s3);
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - i >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
        // Signed compare: bytes >= 0x80 are negative, so this catches controls and non-ASCII together.
        const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, c1), _mm_cmpeq_epi8(v, c2)),
                                         _mm_or_si128(_mm_cmpeq_epi8(v, c3), _mm_cmplt_epi8(v, space)));
        const int mask = _mm_movemask_epi8(hit);
        if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
        i += 16;
    }
    return i;
}
#endif

inline std::size_t skip_text(const unsigned char* b, std::size_t i, std::size_t end) noexcept
{
#if defined(__SSE2__)
    i = skip_sse2(b, i, end, '<', '&', '>');
#endif
    return skip_class(b, i, end, k_text);
}

// Stops at both quote characters; the caller accepts the one that does not close the value.
inline std::size_t skip_attr(const unsigned char* b, std::size_t i, std::size_t end, char quote) noexcept
{
#if defined(__SSE2__)
    i = skip_sse2(b, i, end, '<', '&', quote);
#else
    (void)quote;
#endif
    return skip_class(b, i, end, k_attr);
}

inline std::size_t skip_cdata(const unsigned char* b, std::size_t i, std::size_t end) noexcept
{
#if defined(__SSE2__)
    i = skip_sse2(b, i, end, '>', '>', '>');
#endif
    return skip_class(b, i, end, k_cdata);
}

}  // namespace tern::xml::detail
