#include "crypto/crypto.hpp"

#include <wolfssl/options.h>

#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/pwdbased.h>

#include <sys/random.h>

#include <cerrno>
#include <limits>
#include <stdexcept>

namespace tern::crypto {
namespace {

// wolfCrypt rejects a null pointer even with a zero length; an empty string_view may carry one.
const byte* bytes(std::string_view s)
{
    static constexpr byte empty = 0;
    return s.empty() ? &empty : reinterpret_cast<const byte*>(s.data());
}

byte* bytes(std::string& s) { return reinterpret_cast<byte*>(s.data()); }

word32 size32(std::string_view s)
{
    if (s.size() > std::numeric_limits<word32>::max() / 2)
        throw std::length_error("crypto: input too large");
    return static_cast<word32>(s.size());
}

int wc_type(Hash h) { return h == Hash::Sha1 ? static_cast<int>(WC_SHA) : static_cast<int>(WC_SHA256); }

void check(int rc, const char* what)
{
    if (rc != 0)
        throw std::runtime_error(std::string("crypto: ") + what + " failed (" + std::to_string(rc) + ")");
}

// Value of a base64 alphabet character, or -1.
int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool strict_base64(std::string_view text)
{
    if (text.size() % 4 != 0)
        return false;
    std::size_t pad = 0;
    if (!text.empty() && text.back() == '=')
        pad = text[text.size() - 2] == '=' ? 2 : 1;
    const std::size_t data_len = text.size() - pad;
    for (std::size_t i = 0; i < data_len; ++i)
        if (b64_value(text[i]) < 0)
            return false;
    // The bits of the last character that fall beyond the encoded bytes must be zero (RFC 4648 §3.5).
    if (pad == 2)
        return (b64_value(text[data_len - 1]) & 0x0f) == 0;
    if (pad == 1)
        return (b64_value(text[data_len - 1]) & 0x03) == 0;
    return true;
}

}  // namespace

std::size_t digest_size(Hash h)
{
    return h == Hash::Sha1 ? std::size_t{WC_SHA_DIGEST_SIZE} : std::size_t{WC_SHA256_DIGEST_SIZE};
}

std::string_view hash_name(Hash h) { return h == Hash::Sha1 ? "SHA-1" : "SHA-256"; }

std::string digest(Hash h, std::string_view data)
{
    std::string out(digest_size(h), '\0');
    const int rc = h == Hash::Sha1 ? wc_ShaHash(bytes(data), size32(data), bytes(out))
                                   : wc_Sha256Hash(bytes(data), size32(data), bytes(out));
    check(rc, "hash");
    return out;
}

std::string hmac(Hash h, std::string_view key, std::string_view data)
{
    Hmac ctx;
    check(wc_HmacInit(&ctx, nullptr, INVALID_DEVID), "wc_HmacInit");
    std::string out(digest_size(h), '\0');
    int rc = wc_HmacSetKey(&ctx, wc_type(h), bytes(key), size32(key));
    if (rc == 0)
        rc = wc_HmacUpdate(&ctx, bytes(data), size32(data));
    if (rc == 0)
        rc = wc_HmacFinal(&ctx, bytes(out));
    wc_HmacFree(&ctx);
    check(rc, "hmac");
    return out;
}

std::string pbkdf2(Hash h, std::string_view password, std::string_view salt, std::uint32_t iterations)
{
    if (iterations == 0 || iterations > static_cast<std::uint32_t>(std::numeric_limits<int>::max()))
        throw std::invalid_argument("crypto: pbkdf2 iteration count out of range");
    std::string out(digest_size(h), '\0');
    check(wc_PBKDF2(bytes(out), bytes(password), static_cast<int>(size32(password)), bytes(salt),
                    static_cast<int>(size32(salt)), static_cast<int>(iterations), static_cast<int>(out.size()),
                    wc_type(h)),
          "wc_PBKDF2");
    return out;
}

// The kernel's generator through getrandom(2), not wolfCrypt's: wolfCrypt seeds by opening /dev/urandom,
// which fails on a server whose descriptors are all taken by a connection flood.
std::string random_bytes(std::size_t n)
{
    std::string out(n, '\0');
    for (std::size_t done = 0; done < n;) {
        const ssize_t got = ::getrandom(out.data() + done, n - done, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw std::runtime_error("crypto: getrandom failed (" + std::to_string(errno) + ")");
        done += static_cast<std::size_t>(got);
    }
    return out;
}

std::string base64_encode(std::string_view in)
{
    if (in.empty())
        return {};
    // One spare byte: wolfSSL NUL-terminates when there is room.
    word32 len = static_cast<word32>((in.size() + 2) / 3 * 4 + 1);
    std::string out(len, '\0');
    check(Base64_Encode_NoNl(bytes(in), size32(in), bytes(out), &len), "Base64_Encode_NoNl");
    out.resize(len);
    return out;
}

std::optional<std::string> base64_decode(std::string_view text)
{
    if (!strict_base64(text))
        return std::nullopt;
    if (text.empty())
        return std::string();
    word32 len = static_cast<word32>(text.size() / 4 * 3);
    std::string out(len, '\0');
    if (Base64_Decode(bytes(text), size32(text), bytes(out), &len) != 0)
        return std::nullopt;
    out.resize(len);
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    // volatile keeps the compiler from turning the loop into an early-exit compare.
    volatile unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

ScramKeys derive_scram_keys(Hash h, std::string_view password, std::string_view salt, std::uint32_t iterations)
{
    const std::string salted = pbkdf2(h, password, salt, iterations);
    return ScramKeys{
        .salt = std::string(salt),
        .iterations = iterations,
        .stored_key = digest(h, hmac(h, salted, "Client Key")),
        .server_key = hmac(h, salted, "Server Key"),
    };
}

}  // namespace tern::crypto
