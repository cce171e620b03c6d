#pragma once

// XML namespace names used by tern: the one place they are spelled out.
#include <string_view>

namespace tern::xmpp::ns {

// RFC 6120
inline constexpr std::string_view streams = "http://etherx.jabber.org/streams";
inline constexpr std::string_view client = "jabber:client";
inline constexpr std::string_view server = "jabber:server";
inline constexpr std::string_view tls = "urn:ietf:params:xml:ns:xmpp-tls";
inline constexpr std::string_view sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
inline constexpr std::string_view bind = "urn:ietf:params:xml:ns:xmpp-bind";
inline constexpr std::string_view stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr std::string_view stream_errors = "urn:ietf:params:xml:ns:xmpp-streams";
// RFC 3921 session establishment, still requested by some clients (RFC 6121 Appendix E).
inline constexpr std::string_view session = "urn:ietf:params:xml:ns:xmpp-session";
// The namespace bound to the `xml` prefix (xml:lang).
inline constexpr std::string_view xml = "http://www.w3.org/XML/1998/namespace";

// XEP-0440 SASL channel-binding type capability
inline constexpr std::string_view sasl_cb = "urn:xmpp:sasl-cb:0";
// XEP-0199
inline constexpr std::string_view ping = "urn:xmpp:ping";
// XEP-0030
inline constexpr std::string_view disco_info = "http://jabber.org/protocol/disco#info";
inline constexpr std::string_view disco_items = "http://jabber.org/protocol/disco#items";
// XEP-0092
inline constexpr std::string_view version = "jabber:iq:version";
// RFC 6121
inline constexpr std::string_view roster = "jabber:iq:roster";
inline constexpr std::string_view roster_versioning = "urn:xmpp:features:rosterver";

// XEP-0215 External Service Discovery: the 0.1 "STUN Server Discovery" namespace, then :0, :1 and :2.
inline constexpr std::string_view extdisco_v01 = "http://www.xmpp.org/extensions/xep-0215.html#ns";
inline constexpr std::string_view extdisco_0 = "urn:xmpp:extdisco:0";
inline constexpr std::string_view extdisco_1 = "urn:xmpp:extdisco:1";
inline constexpr std::string_view extdisco_2 = "urn:xmpp:extdisco:2";

// XEP-0279 Server IP Check: :1 since version 0.2 (the current text); :0 is version 0.1's, still
// answered by ejabberd's mod_sic.
inline constexpr std::string_view sic_0 = "urn:xmpp:sic:0";
inline constexpr std::string_view sic_1 = "urn:xmpp:sic:1";

// XEP-0198
inline constexpr std::string_view sm = "urn:xmpp:sm:3";
// XEP-0280
inline constexpr std::string_view carbons = "urn:xmpp:carbons:2";
// XEP-0297
inline constexpr std::string_view forward = "urn:xmpp:forward:0";
// XEP-0334
inline constexpr std::string_view hints = "urn:xmpp:hints";
// XEP-0352
inline constexpr std::string_view csi = "urn:xmpp:csi:0";
// XEP-0004
inline constexpr std::string_view data_forms = "jabber:x:data";
// XEP-0203
inline constexpr std::string_view delay = "urn:xmpp:delay";
// XEP-0353
inline constexpr std::string_view jingle_message = "urn:xmpp:jingle-message:0";

}  // namespace tern::xmpp::ns
