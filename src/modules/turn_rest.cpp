#include "modules/turn_rest.hpp"

#include "crypto/crypto.hpp"

namespace tern::modules {

TurnCredentials turn_rest_credentials(std::string_view secret, std::string_view id,
                                      std::chrono::system_clock::time_point now, std::chrono::seconds ttl,
                                      char separator)
{
    const auto expires = std::chrono::floor<std::chrono::seconds>(now) + ttl;
    std::string username = std::to_string(expires.time_since_epoch().count());
    username += separator;
    username += id;
    std::string password = turn_rest_password(secret, username);
    return {std::move(username), std::move(password), expires};
}

std::string turn_rest_password(std::string_view secret, std::string_view username)
{
    return crypto::base64_encode(crypto::hmac(crypto::Hash::Sha1, secret, username));
}

std::string turn_pseudonym(std::string_view key, std::string_view bare_jid)
{
    static constexpr char hex[] = "0123456789abcdef";
    const std::string mac = crypto::hmac(crypto::Hash::Sha256, key, bare_jid);
    std::string out;
    out.reserve(32);
    for (std::size_t i = 0; i < 16; ++i) {
        const auto byte = static_cast<unsigned char>(mac[i]);
        out += hex[byte >> 4];
        out += hex[byte & 0xf];
    }
    return out;
}

std::string xep0082_datetime(std::chrono::system_clock::time_point t)
{
    const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
    const auto day = std::chrono::floor<std::chrono::days>(seconds);
    const std::chrono::year_month_day date{day};
    const std::chrono::hh_mm_ss time{seconds - day};
    // Formatted by hand: this is on the path of every credentials reply, and snprintf costs more than the rest.
    std::string text = "0000-00-00T00:00:00Z";
    const auto put = [&](std::size_t end, long value, std::size_t digits) {
        for (std::size_t i = end; i > end - digits; --i, value /= 10) text[i - 1] = static_cast<char>('0' + value % 10);
    };
    put(4, static_cast<int>(date.year()), 4);
    put(7, static_cast<unsigned>(date.month()), 2);
    put(10, static_cast<unsigned>(date.day()), 2);
    put(13, time.hours().count(), 2);
    put(16, time.minutes().count(), 2);
    put(19, static_cast<long>(time.seconds().count()), 2);
    return text;
}

}  // namespace tern::modules
