#include "xmpp/errors.hpp"

#include "xml/stanza.hpp"

#include <doctest/doctest.h>

#include <iterator>
#include <string>
#include <utility>

using namespace tern::xmpp;

namespace {

tern::xml::Stanza client_stanza(std::string_view bytes)
{
    tern::xml::NamespaceScope scope;
    scope.bind("", "jabber:client");
    scope.bind("stream", "http://etherx.jabber.org/streams");
    auto stanza = tern::xml::Stanza::parse(bytes, scope);
    REQUIRE(stanza.has_value());
    return std::move(*stanza);
}

template <class Enum>
Enum nth(int i)
{
    return static_cast<Enum>(i);
}

}  // namespace

TEST_SUITE("xmpp")
{
TEST_CASE("stream error conditions are named as in RFC 6120 section 4.9.3")
{
    constexpr std::string_view names[] = {
        "bad-format", "bad-namespace-prefix", "conflict", "connection-timeout", "host-gone", "host-unknown",
        "improper-addressing", "internal-server-error", "invalid-from", "invalid-namespace", "invalid-xml",
        "not-authorized", "not-well-formed", "policy-violation", "remote-connection-failed", "reset",
        "resource-constraint", "restricted-xml", "see-other-host", "system-shutdown", "undefined-condition",
        "unsupported-encoding", "unsupported-feature", "unsupported-stanza-type", "unsupported-version"};
    static_assert(std::size(names) == static_cast<int>(StreamErrorCondition::UnsupportedVersion) + 1);
    for (int i = 0; i < static_cast<int>(std::size(names)); ++i)
        CHECK(to_string(nth<StreamErrorCondition>(i)) == names[i]);
}

TEST_CASE("stream error xml is exact, with and without text")
{
    CHECK(stream_error_xml(StreamErrorCondition::NotWellFormed) ==
          "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
    CHECK(stream_error_xml(StreamErrorCondition::HostUnknown, "no <such> host & 'that'") ==
          "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
          "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>no &lt;such&gt; host &amp; 'that'</text>"
          "</stream:error>");
}

TEST_CASE("xml framing errors map to the stream error of the same name")
{
    using tern::xml::ErrorCondition;
    CHECK(from_xml_error(ErrorCondition::NotWellFormed) == StreamErrorCondition::NotWellFormed);
    CHECK(from_xml_error(ErrorCondition::RestrictedXml) == StreamErrorCondition::RestrictedXml);
    CHECK(from_xml_error(ErrorCondition::PolicyViolation) == StreamErrorCondition::PolicyViolation);
    CHECK(from_xml_error(ErrorCondition::InvalidNamespace) == StreamErrorCondition::InvalidNamespace);
    CHECK(from_xml_error(ErrorCondition::BadFormat) == StreamErrorCondition::BadFormat);
    CHECK(from_xml_error(ErrorCondition::UnsupportedEncoding) == StreamErrorCondition::UnsupportedEncoding);
}

TEST_CASE("stanza error conditions are named as in RFC 6120 section 8.3.3 with their default types")
{
    using T = StanzaErrorType;
    struct Row {
        std::string_view name;
        StanzaErrorType type;
    };
    constexpr Row rows[] = {
        {"bad-request", T::Modify},
        {"conflict", T::Cancel},
        {"feature-not-implemented", T::Cancel},
        {"forbidden", T::Auth},
        {"gone", T::Cancel},
        {"internal-server-error", T::Cancel},
        {"item-not-found", T::Cancel},
        {"jid-malformed", T::Modify},
        {"not-acceptable", T::Modify},
        {"not-allowed", T::Cancel},
        {"not-authorized", T::Auth},
        {"policy-violation", T::Modify},
        {"recipient-unavailable", T::Wait},
        {"redirect", T::Modify},
        {"registration-required", T::Auth},
        {"remote-server-not-found", T::Cancel},
        {"remote-server-timeout", T::Wait},
        {"resource-constraint", T::Wait},
        {"service-unavailable", T::Cancel},
        {"subscription-required", T::Auth},
        {"undefined-condition", T::Cancel},
        {"unexpected-request", T::Wait},
    };
    static_assert(std::size(rows) == static_cast<int>(StanzaErrorCondition::UnexpectedRequest) + 1);
    for (int i = 0; i < static_cast<int>(std::size(rows)); ++i) {
        const auto c = nth<StanzaErrorCondition>(i);
        CAPTURE(rows[i].name);
        CHECK(to_string(c) == rows[i].name);
        CHECK(default_type(c) == rows[i].type);
        CHECK(StanzaError::of(c) == StanzaError{rows[i].type, c, ""});
    }
}

TEST_CASE("stanza error types are named as in RFC 6120 section 8.3.2")
{
    CHECK(to_string(StanzaErrorType::Auth) == "auth");
    CHECK(to_string(StanzaErrorType::Cancel) == "cancel");
    CHECK(to_string(StanzaErrorType::Continue) == "continue");
    CHECK(to_string(StanzaErrorType::Modify) == "modify");
    CHECK(to_string(StanzaErrorType::Wait) == "wait");
}

TEST_CASE("stanza error element is exact, with and without text")
{
    std::string out = "<x>";
    append_stanza_error(out, StanzaError::of(StanzaErrorCondition::ServiceUnavailable));
    CHECK(out == "<x><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                 "</error>");
    out.clear();
    append_stanza_error(out, {StanzaErrorType::Wait, StanzaErrorCondition::PolicyViolation, "slow down <now>"});
    CHECK(out == "<error type='wait'><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                 "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>slow down &lt;now&gt;</text></error>");
}

TEST_CASE("error reply swaps to and from, keeps the id and echoes the payload")
{
    std::string out;
    append_error_reply(out,
                       {"iq", "q1", "example.com", "juliet@example.com/balcony",
                        "<query xmlns='jabber:iq:version'/>"},
                       StanzaError::of(StanzaErrorCondition::FeatureNotImplemented));
    CHECK(out == "<iq from='example.com' to='juliet@example.com/balcony' type='error' id='q1'>"
                 "<query xmlns='jabber:iq:version'/>"
                 "<error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                 "</error></iq>");
}

TEST_CASE("error reply omits absent attributes and escapes the ones it copies")
{
    std::string out;
    append_error_reply(out, {"message", "", "", "romeo@example.net", ""},
                       StanzaError::of(StanzaErrorCondition::RecipientUnavailable, "gone fishing"));
    CHECK(out == "<message to='romeo@example.net' type='error'>"
                 "<error type='wait'><recipient-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                 "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>gone fishing</text></error></message>");
    out.clear();
    append_error_reply(out, {"presence", "a'b\"c<", "", "", ""}, StanzaError::of(StanzaErrorCondition::Forbidden));
    CHECK(out == "<presence type='error' id='a&apos;b&quot;c&lt;'>"
                 "<error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
}

TEST_CASE("error reply appends to what the buffer already holds")
{
    std::string out = "<earlier/>";
    append_error_reply(out, {"iq", "1", "", "", ""}, StanzaError::of(StanzaErrorCondition::BadRequest));
    CHECK(out == "<earlier/><iq type='error' id='1'><error type='modify'>"
                 "<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
}

TEST_CASE("error reply to a parsed iq echoes its first child with its namespace")
{
    const auto iq = client_stanza("<iq type='get' id='v1' from='juliet@example.com/balcony' to='example.com'>"
                                  "<query xmlns='jabber:iq:version'><x/></query><second xmlns='urn:other'/></iq>");
    std::string out;
    append_error_reply(out, iq, StanzaError::of(StanzaErrorCondition::ServiceUnavailable));
    CHECK(out == "<iq from='example.com' to='juliet@example.com/balcony' type='error' id='v1'>"
                 "<query xmlns=\"jabber:iq:version\"><x/></query>"  // pugixml writes double quotes
                 "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                 "</error></iq>");
}

TEST_CASE("error reply to a parsed message or presence leaves the payload out")
{
    const auto message = client_stanza("<message to='nobody@example.com' from='juliet@example.com/b' id='m1' "
                                       "type='chat'><body>secret</body></message>");
    std::string out;
    append_error_reply(out, message, StanzaError::of(StanzaErrorCondition::ItemNotFound));
    CHECK(out == "<message from='nobody@example.com' to='juliet@example.com/b' type='error' id='m1'>"
                 "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                 "</error></message>");
    out.clear();
    const auto presence = client_stanza("<presence to='x@example.com'><show>away</show></presence>");
    append_error_reply(out, presence, StanzaError::of(StanzaErrorCondition::JidMalformed, "bad 'to'"));
    CHECK(out == "<presence from='x@example.com' type='error'>"
                 "<error type='modify'><jid-malformed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                 "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>bad 'to'</text></error></presence>");
}

TEST_CASE("error reply to a parsed iq without a child carries only the error")
{
    const auto iq = client_stanza("<iq type='set' id='e'/>");
    std::string out;
    append_error_reply(out, iq, StanzaError::of(StanzaErrorCondition::BadRequest));
    CHECK(out == "<iq type='error' id='e'><error type='modify'>"
                 "<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
}

TEST_CASE("sasl failures are named as in RFC 6120 section 6.5")
{
    constexpr std::string_view names[] = {"aborted", "account-disabled", "credentials-expired",
                                          "encryption-required", "incorrect-encoding", "invalid-authzid",
                                          "invalid-mechanism", "malformed-request", "mechanism-too-weak",
                                          "not-authorized", "temporary-auth-failure"};
    static_assert(std::size(names) == static_cast<int>(SaslFailure::TemporaryAuthFailure) + 1);
    for (int i = 0; i < static_cast<int>(std::size(names)); ++i) CHECK(to_string(nth<SaslFailure>(i)) == names[i]);
}

TEST_CASE("sasl failure xml is exact, with and without text")
{
    CHECK(sasl_failure_xml(SaslFailure::NotAuthorized) ==
          "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>");
    CHECK(sasl_failure_xml(SaslFailure::AccountDisabled, "Call 212-555-1212 & ask") ==
          "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><account-disabled/>"
          "<text>Call 212-555-1212 &amp; ask</text></failure>");
}
}
