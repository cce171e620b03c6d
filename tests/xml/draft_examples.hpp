#pragma once

// Stream excerpts from draft-ietf-xmpp-core-23 (shared/seeds/xmpp-core-draft-23.txt), joined into the
// streams a peer would actually send. Whitespace and line breaks are kept as in the draft.

#include <string_view>
#include <vector>

namespace tern::xml::test {

// §5.3 / §6.5 / §7: a client's stream up to resource binding and a message (the first stream, before
// STARTTLS; restarts are exercised separately).
inline constexpr std::string_view client_header =
    "<?xml version='1.0'?>\n"
    "<stream:stream\n"
    "  xmlns='jabber:client'\n"
    "  xmlns:stream='http://etherx.jabber.org/streams'\n"
    "  to='example.com'\n"
    "  version='1.0'>";

inline constexpr std::string_view server_header =
    "<stream:stream\n"
    "  xmlns='jabber:client'\n"
    "  xmlns:stream='http://etherx.jabber.org/streams'\n"
    "  id='c2s_123'\n"
    "  from='example.com'\n"
    "  version='1.0'>";

inline constexpr std::string_view s2s_dialback_header =
    "<stream:stream\n"
    "  xmlns:stream='http://etherx.jabber.org/streams'\n"
    "  xmlns='jabber:server'\n"
    "  xmlns:db='jabber:server:dialback'\n"
    "  id='457F9224A0...'>";

// Depth-1 elements from the draft's client and server examples.
inline const std::vector<std::string_view> draft_elements = {
    // §5.3 step 3
    "<stream:features>\n"
    "  <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>\n"
    "    <required/>\n"
    "  </starttls>\n"
    "  <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\n"
    "    <mechanism>DIGEST-MD5</mechanism>\n"
    "    <mechanism>PLAIN</mechanism>\n"
    "  </mechanisms>\n"
    "</stream:features>",
    "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
    "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
    "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
    // §6.5
    "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'\n"
    "  mechanism='DIGEST-MD5' />",
    "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\n"
    "cmVhbG09InNvbWVyZWFSbSIscm9uY2U9Ik9BNk1H0XRFUdtMmhoIixxb3A9ImF1dGgi\n"
    "LGN0YXJzZXQ9dXRmLTgsYWxnb3JpdGhtPW1kNS1zZXNzCg==\n"
    "</challenge>",
    "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\n"
    "dXNlcm5hbWU9InNvbWVub2RlIixyZWFSbT0ic29tZXJlYWxtIixub25jZT0i\n"
    "T0E2TUc5dEVRR20yaGgiLGNub25jZT0iT0E2TUhYaDZwcVRyUmsiLG5jPTAw\n"
    "MDAwMDAxLHFvcD1hdXR0LGRpZ2VzdC11cmk9InhtcHAvZXhhbXBsZS5jb20i\n"
    "LHJlc3BvbnNlPWQzODhkYWQ5MGQ0YmJkNzYwYTE1MjMyMWYyMTQzYWY3LGN0\n"
    "YXJzZXQ9dXRmLTgK\n"
    "</response>",
    "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\n"
    "  <temporary-auth-failure/>\n"
    "</failure>",
    "<stream:features>\n"
    "  <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\n"
    "  <session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>\n"
    "</stream:features>",
    // §7
    "<iq type='set' id='bind_2'>\n"
    "  <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\n"
    "    <resource>someresource</resource>\n"
    "  </bind>\n"
    "</iq>",
    "<iq type='result' id='bind_2'>\n"
    "  <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\n"
    "    <jid>somenode@example.com/someresource</jid>\n"
    "  </bind>\n"
    "</iq>",
    "<iq type='error' id='bind_2'>\n"
    "  <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\n"
    "    <resource>someresource</resource>\n"
    "  </bind>\n"
    "  <error type='cancel'>\n"
    "    <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' />\n"
    "  </error>\n"
    "</iq>",
    // §4.5
    "<message from='juliet@example.com'\n"
    "         to='romeo@example.net'\n"
    "         xml:lang='en'>\n"
    "    <body>Art thou not Romeo, and a Montague?</body>\n"
    "  </message>",
    "<presence/>",
    // §4.7
    "<stream:error>\n"
    "  <xml-not-well-formed\n"
    "    xmlns='urn:ietf:params:xml:ns:xmpp-streams' />\n"
    "  <text xml:lang='en' xmlns='urn:ietf:params:xml:ns:xmpp-streams'>\n"
    "    Some special application diagnostic information!\n"
    "  </text>\n"
    "  <escape-your-data xmlns='application-ns' />\n"
    "</stream:error>",
};

// §8: dialback elements, in a stream that declares xmlns:db.
inline const std::vector<std::string_view> dialback_elements = {
    "<db:result\n"
    "  to='Receiving Server'\n"
    "  from='Originating Server'>\n"
    "  98AF014EDC0...\n"
    "</db:result>",
    "<db:verify\n"
    "  from='Receiving Server'\n"
    "  to='Originating Server'\n"
    "  id='457F9224A0...'>\n"
    "  98AF014EDC0...\n"
    "</db:verify>",
};

}  // namespace tern::xml::test
