#include "sasl/scram_client.hpp"

#include <charconv>

namespace tern::sasl {

namespace {

std::string escape_name(std::string_view name)
{
    std::string out;
    for (char c : name) {
        if (c == ',')
            out += "=2C";
        else if (c == '=')
            out += "=3D";
        else
            out += c;
    }
    return out;
}

std::optional<std::string_view> attribute(std::string_view message, char key)
{
    std::size_t start = 0;
    while (start < message.size()) {
        auto end = message.find(',', start);
        if (end == std::string_view::npos) end = message.size();
        const std::string_view part = message.substr(start, end - start);
        if (part.size() >= 2 && part[0] == key && part[1] == '=') return part.substr(2);
        start = end + 1;
    }
    return std::nullopt;
}

}  // namespace

ScramClient::ScramClient(crypto::Hash hash, std::string username, std::string password, ScramClientOptions options)
    : hash_(hash),
      username_(std::move(username)),
      password_(std::move(password)),
      gs2_header_(options.gs2_flag + "," + (options.authzid.empty() ? "" : "a=" + escape_name(options.authzid)) + ","),
      binding_data_(std::move(options.binding_data)),
      client_nonce_(options.nonce.empty() ? crypto::base64_encode(crypto::random_bytes(18)) : std::move(options.nonce)),
      salted_(options.salted.value_or(SaltedPassword{}))
{
}

std::string ScramClient::client_first()
{
    client_first_bare_ = "n=" + escape_name(username_) + ",r=" + client_nonce_;
    return gs2_header_ + client_first_bare_;
}

std::optional<std::string> ScramClient::client_final(std::string_view server_first)
{
    const auto nonce = attribute(server_first, 'r');
    const auto salt_b64 = attribute(server_first, 's');
    const auto iterations_text = attribute(server_first, 'i');
    if (!nonce || !salt_b64 || !iterations_text) return std::nullopt;
    if (nonce->size() <= client_nonce_.size() || !nonce->starts_with(client_nonce_)) return std::nullopt;
    const auto salt = crypto::base64_decode(*salt_b64);
    std::uint32_t iterations = 0;
    const char* end = iterations_text->data() + iterations_text->size();
    if (std::from_chars(iterations_text->data(), end, iterations).ptr != end) return std::nullopt;
    if (!salt || iterations == 0) return std::nullopt;

    if (salted_.value.empty() || salted_.salt != *salt || salted_.iterations != iterations)
        salted_ = {*salt, iterations, crypto::pbkdf2(hash_, password_, *salt, iterations)};

    const std::string without_proof =
        "c=" + crypto::base64_encode(gs2_header_ + binding_data_) + ",r=" + std::string(*nonce);
    const std::string auth_message = client_first_bare_ + "," + std::string(server_first) + "," + without_proof;
    const std::string client_key = crypto::hmac(hash_, salted_.value, "Client Key");
    const std::string stored_key = crypto::digest(hash_, client_key);
    const std::string signature = crypto::hmac(hash_, stored_key, auth_message);
    std::string proof = client_key;
    for (std::size_t i = 0; i < proof.size(); ++i) proof[i] = static_cast<char>(proof[i] ^ signature[i]);
    const std::string server_key = crypto::hmac(hash_, salted_.value, "Server Key");
    expected_server_signature_ = crypto::hmac(hash_, server_key, auth_message);
    return without_proof + ",p=" + crypto::base64_encode(proof);
}

bool ScramClient::verify_server_final(std::string_view server_final) const
{
    if (expected_server_signature_.empty()) return false;
    const auto verifier = attribute(server_final, 'v');
    if (!verifier) return false;
    const auto decoded = crypto::base64_decode(*verifier);
    return decoded && crypto::constant_time_equal(*decoded, expected_server_signature_);
}

}  // namespace tern::sasl
