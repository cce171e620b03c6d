#include "sasl/mechanism.hpp"

#include "sasl/plain.hpp"
#include "sasl/scram.hpp"

#include <algorithm>
#include <array>

namespace tern::sasl {
namespace {

struct Known {
    std::string_view name;
    bool scram;
    crypto::Hash hash;
    bool plus;
};

// Strongest first: the order offered_mechanisms advertises.
constexpr std::array<Known, 5> known_mechanisms{{
    {"SCRAM-SHA-256-PLUS", true, crypto::Hash::Sha256, true},
    {"SCRAM-SHA-1-PLUS", true, crypto::Hash::Sha1, true},
    {"SCRAM-SHA-256", true, crypto::Hash::Sha256, false},
    {"SCRAM-SHA-1", true, crypto::Hash::Sha1, false},
    {"PLAIN", false, crypto::Hash::Sha256, false},
}};

bool usable(const Known& m, const ServerContext& ctx)
{
    if (m.plus)
        return !ctx.bindings.empty();
    if (!m.scram)
        return ctx.tls;
    return true;
}

}  // namespace

Step Step::challenge(std::string data)
{
    Step s;
    s.kind = Kind::Challenge;
    s.data = std::move(data);
    return s;
}

Step Step::success(std::string data)
{
    Step s;
    s.kind = Kind::Success;
    s.data = std::move(data);
    return s;
}

Step Step::fail(xmpp::SaslFailure failure, std::string text)
{
    Step s;
    s.kind = Kind::Failure;
    s.failure = failure;
    s.text = std::move(text);
    return s;
}

Mechanism::~Mechanism() = default;

bool y_flag_is_downgrade(const ServerContext& ctx)
{
    if (ctx.strict_channel_binding_flag) return !ctx.bindings.empty();
    return std::any_of(ctx.bindings.begin(), ctx.bindings.end(),
                       [](const ChannelBinding& b) { return b.type == "tls-unique"; });
}

std::unique_ptr<Mechanism> make_mechanism(std::string_view name, const ServerContext& ctx)
{
    const auto it = std::find_if(known_mechanisms.begin(), known_mechanisms.end(),
                                 [&](const Known& m) { return m.name == name; });
    if (it == known_mechanisms.end() || !usable(*it, ctx))
        return nullptr;
    if (it->scram)
        return std::make_unique<Scram>(it->hash, it->plus, ctx);
    return std::make_unique<Plain>(ctx);
}

std::vector<std::string> offered_mechanisms(const std::vector<std::string>& configured, const ServerContext& ctx)
{
    std::vector<std::string> offered;
    for (const Known& m : known_mechanisms)
        if (usable(m, ctx) && std::find(configured.begin(), configured.end(), m.name) != configured.end())
            offered.emplace_back(m.name);
    return offered;
}

}  // namespace tern::sasl
