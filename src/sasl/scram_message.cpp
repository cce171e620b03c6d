#include "sasl/scram_message.hpp"

#include "crypto/crypto.hpp"
#include "xmpp/stringprep.hpp"

#include <vector>

namespace tern::sasl::scram {
namespace {

constexpr std::string_view invalid_encoding = "invalid-encoding";

std::vector<std::string_view> split_attributes(std::string_view message)
{
    std::vector<std::string_view> fields;
    for (;;) {
        const auto comma = message.find(',');
        fields.push_back(message.substr(0, comma));
        if (comma == std::string_view::npos)
            return fields;
        message.remove_prefix(comma + 1);
    }
}

// UTF-8 without NUL: value-safe-char and value-char (RFC 5802 §7) exclude nothing else but ',' and '='.
bool valid_text(std::string_view message)
{
    return message.find('\0') == std::string_view::npos && xmpp::is_valid_utf8(message);
}

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The value of "<name>=value", or nullopt if the attribute has another name.
std::optional<std::string_view> value_of(std::string_view field, char name)
{
    if (field.size() < 2 || field[0] != name || field[1] != '=')
        return std::nullopt;
    return field.substr(2);
}

// printable = %x21-2B / %x2D-7E, one or more (',' is already split off).
bool valid_nonce(std::string_view nonce)
{
    if (nonce.empty())
        return false;
    for (char c : nonce)
        if (c < 0x21 || c > 0x7e)
            return false;
    return true;
}

// cb-name = 1*(ALPHA / DIGIT / "." / "-")
bool valid_cb_name(std::string_view name)
{
    if (name.empty())
        return false;
    for (char c : name)
        if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '-')
            return false;
    return true;
}

// attr-val = ALPHA "=" value, value = 1*value-char (',' is already split off, NUL already refused).
bool valid_extension(std::string_view field) { return field.size() >= 3 && is_alpha(field[0]) && field[1] == '='; }

}  // namespace

std::optional<std::string> decode_saslname(std::string_view text)
{
    if (text.empty())
        return std::nullopt;
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '=') {
            out += text[i];
            continue;
        }
        const std::string_view escape = text.substr(i + 1, 2);
        if (escape == "2C")
            out += ',';
        else if (escape == "3D")
            out += '=';
        else
            return std::nullopt;
        i += 2;
    }
    return out;
}

tern::expected<ClientFirst, std::string_view> parse_client_first(std::string_view message)
{
    if (!valid_text(message))
        return tern::make_unexpected(invalid_encoding);
    const auto fields = split_attributes(message);
    if (fields.size() < 4)
        return tern::make_unexpected(invalid_encoding);

    ClientFirst first;
    if (fields[0] == "n") {
        first.flag = CbFlag::NotSupported;
    } else if (fields[0] == "y") {
        first.flag = CbFlag::ServerLacksIt;
    } else if (auto type = value_of(fields[0], 'p'); type && valid_cb_name(*type)) {
        first.flag = CbFlag::Used;
        first.cb_type = *type;
    } else {
        return tern::make_unexpected(invalid_encoding);
    }

    if (!fields[1].empty()) {
        auto authzid = value_of(fields[1], 'a');
        auto decoded = authzid ? decode_saslname(*authzid) : std::nullopt;
        if (!decoded)
            return tern::make_unexpected(invalid_encoding);
        first.authzid = std::move(*decoded);
    }
    first.gs2_header = std::string(message.substr(0, fields[0].size() + fields[1].size() + 2));
    first.bare = std::string(message.substr(first.gs2_header.size()));

    if (value_of(fields[2], 'm'))
        return tern::make_unexpected(std::string_view("extensions-not-supported"));
    auto username = value_of(fields[2], 'n');
    if (!username)
        return tern::make_unexpected(invalid_encoding);
    auto decoded = decode_saslname(*username);
    if (!decoded)
        return tern::make_unexpected(std::string_view("invalid-username-encoding"));
    first.username = std::move(*decoded);

    auto nonce = value_of(fields[3], 'r');
    if (!nonce || !valid_nonce(*nonce))
        return tern::make_unexpected(invalid_encoding);
    first.nonce = *nonce;

    for (std::size_t i = 4; i < fields.size(); ++i) {
        if (value_of(fields[i], 'm'))
            return tern::make_unexpected(std::string_view("extensions-not-supported"));
        if (!valid_extension(fields[i]))
            return tern::make_unexpected(invalid_encoding);
    }
    return first;
}

tern::expected<ClientFinal, std::string_view> parse_client_final(std::string_view message)
{
    if (!valid_text(message))
        return tern::make_unexpected(invalid_encoding);
    const auto fields = split_attributes(message);
    if (fields.size() < 3)
        return tern::make_unexpected(invalid_encoding);

    ClientFinal final_message;
    auto cb = value_of(fields[0], 'c');
    auto cb_decoded = cb ? crypto::base64_decode(*cb) : std::nullopt;
    if (!cb_decoded)
        return tern::make_unexpected(invalid_encoding);
    final_message.channel_binding = std::move(*cb_decoded);

    auto nonce = value_of(fields[1], 'r');
    if (!nonce || !valid_nonce(*nonce))
        return tern::make_unexpected(invalid_encoding);
    final_message.nonce = *nonce;

    for (std::size_t i = 2; i + 1 < fields.size(); ++i)
        if (!valid_extension(fields[i]) || value_of(fields[i], 'p'))
            return tern::make_unexpected(invalid_encoding);

    const std::string_view proof_field = fields.back();
    auto proof = value_of(proof_field, 'p');
    auto proof_decoded = proof ? crypto::base64_decode(*proof) : std::nullopt;
    if (!proof_decoded)
        return tern::make_unexpected(invalid_encoding);
    final_message.proof = std::move(*proof_decoded);
    final_message.without_proof = std::string(message.substr(0, message.size() - proof_field.size() - 1));
    return final_message;
}

}  // namespace tern::sasl::scram
