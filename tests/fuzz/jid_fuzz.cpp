// JID parsing and stringprep on arbitrary bytes. Aborts when a parsed JID does not survive str() → parse()
// unchanged, when a prepared part is not a fixed point of its preparation, or when the ASCII fast path and
// libidn disagree.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "xmpp/jid.hpp"
#include "xmpp/stringprep.hpp"

using tern::xmpp::Jid;
using tern::xmpp::PrepProfile;

namespace {

void require(bool ok)
{
    if (!ok) std::abort();
}

template <class Prep>
void require_fixed_point(const std::string& part, Prep prep)
{
    if (part.empty()) return;
    const auto again = prep(part);
    require(again.has_value() && *again == part);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    if (const auto jid = Jid::parse(text)) {
        const auto again = Jid::parse(jid->str());
        require(again.has_value() && *again == *jid);
        require(!jid->empty());
        require(jid->bare().str() == jid->bare_str());
        require(jid->bare().with_resource(jid->resource()) == *jid);
        require_fixed_point(jid->local(), Jid::prep_local);
        require_fixed_point(jid->domain(), Jid::prep_domain);
        require_fixed_point(jid->resource(), Jid::prep_resource);
    }

    for (const auto& part : {Jid::prep_local(text), Jid::prep_domain(text), Jid::prep_resource(text)})
        if (part) require(!part->empty() && part->size() <= 1023);

    for (PrepProfile p : {PrepProfile::Nodeprep, PrepProfile::Resourceprep, PrepProfile::Nameprep,
                          PrepProfile::Saslprep})
        require(tern::xmpp::stringprep(p, text) == tern::xmpp::detail::stringprep_libidn(p, text));
    return 0;
}
