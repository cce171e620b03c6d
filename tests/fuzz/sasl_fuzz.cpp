// Server-side SASL on arbitrary bytes: the SCRAM client-first/client-final parsers, saslname decoding,
// strict base64, and whole PLAIN / SCRAM exchanges against an account whose keys come from the RFC 5802
// and RFC 7677 examples (user "user", password "pencil"), so the seed transcripts log in.
// Byte 0 picks the mechanism (bits 0-1), TLS (bit 2) and whether there is an initial response (bit 3);
// the rest is the client's messages, already base64-decoded as the session hands them over, separated by
// 0xFF (never part of UTF-8).
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/crypto.hpp"
#include "sasl/mechanism.hpp"
#include "sasl/scram_message.hpp"

using namespace tern;

namespace {

void require(bool ok)
{
    if (!ok) std::abort();
}

struct Account {
    std::string nonce;  // the server nonce of the RFC example
    crypto::ScramKeys keys;
};

const Account& account(crypto::Hash hash)
{
    static const Account sha1{"3rfcNHYJY1ZVvWVs7j",
                              crypto::derive_scram_keys(crypto::Hash::Sha1, "pencil",
                                                        *crypto::base64_decode("QSXCR+Q6sek8bf92"), 4096)};
    static const Account sha256{"%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                                crypto::derive_scram_keys(crypto::Hash::Sha256, "pencil",
                                                          *crypto::base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096)};
    return hash == crypto::Hash::Sha1 ? sha1 : sha256;
}

void check_base64(std::string_view text)
{
    if (const auto decoded = crypto::base64_decode(text)) {
        const std::string encoded = crypto::base64_encode(*decoded);
        const auto again = crypto::base64_decode(encoded);
        require(again && *again == *decoded);
    }
    const auto round = crypto::base64_decode(crypto::base64_encode(text));
    require(round && *round == text);
}

void check_parsers(std::string_view text)
{
    if (const auto first = sasl::scram::parse_client_first(text)) {
        require(!first->username.empty() && !first->nonce.empty());
        require(text.starts_with(first->gs2_header) && text.ends_with(first->bare));
        require(first->gs2_header.size() + first->bare.size() == text.size());
    }
    if (const auto final_message = sasl::scram::parse_client_final(text))
        require(text.starts_with(final_message->without_proof));
    if (const auto name = sasl::scram::decode_saslname(text)) require(!name->empty() && name->size() <= text.size());
}

void run_exchange(std::uint8_t mode, const std::vector<std::string_view>& messages)
{
    static constexpr std::string_view names[] = {"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "SCRAM-SHA-256-PLUS"};
    const std::string_view name = names[mode & 0x3];
    const crypto::Hash hash = name == "SCRAM-SHA-1" ? crypto::Hash::Sha1 : crypto::Hash::Sha256;

    sasl::ServerContext ctx;
    ctx.tls = (mode & 0x4) != 0;
    if (ctx.tls) ctx.bindings = {{"tls-exporter", std::string(32, '\x42')}};
    ctx.lookup = [](std::string_view username, crypto::Hash h) -> std::optional<crypto::ScramKeys> {
        if (username != "user") return std::nullopt;
        return account(h).keys;
    };
    ctx.server_nonce = [hash] { return account(hash).nonce; };
    ctx.unknown_user_iterations = 4096;

    auto mechanism = sasl::make_mechanism(name, ctx);
    if (!mechanism) return;  // PLAIN and -PLUS need TLS
    const bool initial = (mode & 0x8) != 0;
    std::size_t next = 0;
    sasl::Step step = mechanism->start(initial && !messages.empty() ? std::optional(messages[next++]) : std::nullopt);
    while (step.kind == sasl::Step::Kind::Challenge && next < messages.size()) step = mechanism->step(messages[next++]);
    if (step.kind == sasl::Step::Kind::Success) require(mechanism->authcid() == "user");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    const std::uint8_t mode = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

    std::vector<std::string_view> messages;
    for (std::size_t pos = 0; messages.size() < 4;) {
        const std::size_t end = input.find('\xff', pos);
        messages.push_back(input.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
    for (const auto message : messages) {
        check_parsers(message);
        check_base64(message);
    }
    run_exchange(mode, messages);
    return 0;
}
