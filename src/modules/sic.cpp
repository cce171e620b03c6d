// XEP-0279 Server IP Check: the requester's own address and port as the server sees them (the PROXY
// protocol source behind a load balancer). Asked of the server or of the requester's own bare JID; asked
// of another account's bare JID, it is forbidden (XEP-0279 §4: never another client's address). Version 0
// (urn:xmpp:sic:0) is answered in both forms clients use: <ip/> as published in 2010, and <address/>.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include "modules/registrations.hpp"
#include "xmpp/ns.hpp"

namespace tern::modules {

namespace {

using server::IqRequest;
using server::IqResult;
using server::Target;
using xmpp::StanzaError;
using xmpp::StanzaErrorCondition;

bool is_ip_address(std::string_view text)
{
    const std::string s{text};
    in6_addr v6{};
    in_addr v4{};
    return inet_pton(AF_INET, s.c_str(), &v4) == 1 || inet_pton(AF_INET6, s.c_str(), &v6) == 1;
}

IqResult check(const IqRequest& request)
{
    if (request.target == Target::OtherAccount)
        return make_unexpected(StanzaError::of(StanzaErrorCondition::Forbidden, "only your own address"));
    if (!is_ip_address(request.from.address))
        return make_unexpected(StanzaError::of(StanzaErrorCondition::InternalServerError));
    return {};
}

// <address xmlns=ns><ip>…</ip><port>…</port></address>; no <port/> when the port is unknown.
void write_address(xml::Writer& reply, std::string_view ns, const IqRequest& request)
{
    reply.open("address").attr("xmlns", ns).leaf("ip", request.from.address);
    if (request.from.port != 0) reply.leaf("port", std::to_string(request.from.port));
    reply.close();
}

}  // namespace

void register_sic(server::IqDispatcher& dispatcher)
{
    constexpr Target target = Target::Both | Target::OtherAccount;
    dispatcher.add("get", xmpp::ns::sic_1, "address", target, [](const IqRequest& request, xml::Writer& reply) {
        if (auto ok = check(request); !ok) return ok;
        write_address(reply, xmpp::ns::sic_1, request);
        return IqResult{};
    });
    // Version 0.1 (2010) asked with <ip/> and answered with the address as its text. Clients that ask version 0
    // with <address/> (as for version 1) get what ejabberd's mod_sic and Prosody's community mod_sic answer:
    // the version 1 children, in the version 0 namespace.
    dispatcher.add("get", xmpp::ns::sic_0, "ip", target, [](const IqRequest& request, xml::Writer& reply) {
        if (auto ok = check(request); !ok) return ok;
        reply.open("ip").attr("xmlns", xmpp::ns::sic_0).text(request.from.address).close();
        return IqResult{};
    });
    dispatcher.add("get", xmpp::ns::sic_0, "address", target, [](const IqRequest& request, xml::Writer& reply) {
        if (auto ok = check(request); !ok) return ok;
        write_address(reply, xmpp::ns::sic_0, request);
        return IqResult{};
    });
}

}  // namespace tern::modules
