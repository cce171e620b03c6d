#include "xmpp/errors.hpp"

#include "xml/stanza.hpp"
#include "xml/writer.hpp"
#include "xmpp/ns.hpp"

namespace tern::xmpp {

std::string_view to_string(StreamErrorCondition condition)
{
    switch (condition) {
    case StreamErrorCondition::BadFormat: return "bad-format";
    case StreamErrorCondition::BadNamespacePrefix: return "bad-namespace-prefix";
    case StreamErrorCondition::Conflict: return "conflict";
    case StreamErrorCondition::ConnectionTimeout: return "connection-timeout";
    case StreamErrorCondition::HostGone: return "host-gone";
    case StreamErrorCondition::HostUnknown: return "host-unknown";
    case StreamErrorCondition::ImproperAddressing: return "improper-addressing";
    case StreamErrorCondition::InternalServerError: return "internal-server-error";
    case StreamErrorCondition::InvalidFrom: return "invalid-from";
    case StreamErrorCondition::InvalidNamespace: return "invalid-namespace";
    case StreamErrorCondition::InvalidXml: return "invalid-xml";
    case StreamErrorCondition::NotAuthorized: return "not-authorized";
    case StreamErrorCondition::NotWellFormed: return "not-well-formed";
    case StreamErrorCondition::PolicyViolation: return "policy-violation";
    case StreamErrorCondition::RemoteConnectionFailed: return "remote-connection-failed";
    case StreamErrorCondition::Reset: return "reset";
    case StreamErrorCondition::ResourceConstraint: return "resource-constraint";
    case StreamErrorCondition::RestrictedXml: return "restricted-xml";
    case StreamErrorCondition::SeeOtherHost: return "see-other-host";
    case StreamErrorCondition::SystemShutdown: return "system-shutdown";
    case StreamErrorCondition::UndefinedCondition: return "undefined-condition";
    case StreamErrorCondition::UnsupportedEncoding: return "unsupported-encoding";
    case StreamErrorCondition::UnsupportedFeature: return "unsupported-feature";
    case StreamErrorCondition::UnsupportedStanzaType: return "unsupported-stanza-type";
    case StreamErrorCondition::UnsupportedVersion: return "unsupported-version";
    }
    return "undefined-condition";
}

std::string stream_error_xml(StreamErrorCondition condition, std::string_view text)
{
    std::string out;
    xml::Writer w(out);
    w.open("stream:error");
    w.open(to_string(condition)).attr("xmlns", ns::stream_errors).close();
    if (!text.empty()) w.open("text").attr("xmlns", ns::stream_errors).text(text).close();
    w.close();
    return out;
}

StreamErrorCondition from_xml_error(xml::ErrorCondition condition)
{
    switch (condition) {
    case xml::ErrorCondition::NotWellFormed: return StreamErrorCondition::NotWellFormed;
    case xml::ErrorCondition::RestrictedXml: return StreamErrorCondition::RestrictedXml;
    case xml::ErrorCondition::PolicyViolation: return StreamErrorCondition::PolicyViolation;
    case xml::ErrorCondition::InvalidNamespace: return StreamErrorCondition::InvalidNamespace;
    case xml::ErrorCondition::BadFormat: return StreamErrorCondition::BadFormat;
    case xml::ErrorCondition::UnsupportedEncoding: return StreamErrorCondition::UnsupportedEncoding;
    }
    return StreamErrorCondition::UndefinedCondition;
}

std::string_view to_string(StanzaErrorCondition condition)
{
    switch (condition) {
    case StanzaErrorCondition::BadRequest: return "bad-request";
    case StanzaErrorCondition::Conflict: return "conflict";
    case StanzaErrorCondition::FeatureNotImplemented: return "feature-not-implemented";
    case StanzaErrorCondition::Forbidden: return "forbidden";
    case StanzaErrorCondition::Gone: return "gone";
    case StanzaErrorCondition::InternalServerError: return "internal-server-error";
    case StanzaErrorCondition::ItemNotFound: return "item-not-found";
    case StanzaErrorCondition::JidMalformed: return "jid-malformed";
    case StanzaErrorCondition::NotAcceptable: return "not-acceptable";
    case StanzaErrorCondition::NotAllowed: return "not-allowed";
    case StanzaErrorCondition::NotAuthorized: return "not-authorized";
    case StanzaErrorCondition::PolicyViolation: return "policy-violation";
    case StanzaErrorCondition::RecipientUnavailable: return "recipient-unavailable";
    case StanzaErrorCondition::Redirect: return "redirect";
    case StanzaErrorCondition::RegistrationRequired: return "registration-required";
    case StanzaErrorCondition::RemoteServerNotFound: return "remote-server-not-found";
    case StanzaErrorCondition::RemoteServerTimeout: return "remote-server-timeout";
    case StanzaErrorCondition::ResourceConstraint: return "resource-constraint";
    case StanzaErrorCondition::ServiceUnavailable: return "service-unavailable";
    case StanzaErrorCondition::SubscriptionRequired: return "subscription-required";
    case StanzaErrorCondition::UndefinedCondition: return "undefined-condition";
    case StanzaErrorCondition::UnexpectedRequest: return "unexpected-request";
    }
    return "undefined-condition";
}

std::string_view to_string(StanzaErrorType type)
{
    switch (type) {
    case StanzaErrorType::Auth: return "auth";
    case StanzaErrorType::Cancel: return "cancel";
    case StanzaErrorType::Continue: return "continue";
    case StanzaErrorType::Modify: return "modify";
    case StanzaErrorType::Wait: return "wait";
    }
    return "cancel";
}

StanzaErrorType default_type(StanzaErrorCondition condition)
{
    using C = StanzaErrorCondition;
    using T = StanzaErrorType;
    switch (condition) {
    case C::BadRequest: return T::Modify;
    case C::Conflict: return T::Cancel;
    case C::FeatureNotImplemented: return T::Cancel;
    case C::Forbidden: return T::Auth;
    case C::Gone: return T::Cancel;
    case C::InternalServerError: return T::Cancel;
    case C::ItemNotFound: return T::Cancel;
    case C::JidMalformed: return T::Modify;
    case C::NotAcceptable: return T::Modify;
    case C::NotAllowed: return T::Cancel;
    case C::NotAuthorized: return T::Auth;
    case C::PolicyViolation: return T::Modify;
    case C::RecipientUnavailable: return T::Wait;
    case C::Redirect: return T::Modify;
    case C::RegistrationRequired: return T::Auth;
    case C::RemoteServerNotFound: return T::Cancel;
    case C::RemoteServerTimeout: return T::Wait;
    case C::ResourceConstraint: return T::Wait;
    case C::ServiceUnavailable: return T::Cancel;
    case C::SubscriptionRequired: return T::Auth;
    case C::UndefinedCondition: return T::Cancel;
    case C::UnexpectedRequest: return T::Wait;
    }
    return T::Cancel;
}

namespace {

void write_stanza_error(xml::Writer& w, const StanzaError& error)
{
    w.open("error").attr("type", to_string(error.type));
    w.open(to_string(error.condition)).attr("xmlns", ns::stanzas).close();
    if (!error.text.empty()) w.open("text").attr("xmlns", ns::stanzas).text(error.text).close();
    w.close();
}

}  // namespace

void append_stanza_error(std::string& out, const StanzaError& error)
{
    xml::Writer w(out);
    write_stanza_error(w, error);
}

void append_error_reply(std::string& out, const OriginalStanza& original, const StanzaError& error)
{
    xml::Writer w(out);
    w.open(original.name);
    if (!original.to.empty()) w.attr("from", original.to);
    if (!original.from.empty()) w.attr("to", original.from);
    w.attr("type", "error");
    if (!original.id.empty()) w.attr("id", original.id);
    w.raw(original.payload);
    write_stanza_error(w, error);
    w.close();
}

void append_error_reply(std::string& out, const xml::Stanza& original, const StanzaError& error)
{
    std::string payload;
    if (original.name() == "iq") {
        if (const xml::Element child = original.root().first_child_element()) child.serialize_to(payload);
    }
    append_error_reply(out, {original.name(), original.id(), original.to(), original.from(), payload}, error);
}

std::string_view to_string(SaslFailure failure)
{
    switch (failure) {
    case SaslFailure::Aborted: return "aborted";
    case SaslFailure::AccountDisabled: return "account-disabled";
    case SaslFailure::CredentialsExpired: return "credentials-expired";
    case SaslFailure::EncryptionRequired: return "encryption-required";
    case SaslFailure::IncorrectEncoding: return "incorrect-encoding";
    case SaslFailure::InvalidAuthzid: return "invalid-authzid";
    case SaslFailure::InvalidMechanism: return "invalid-mechanism";
    case SaslFailure::MalformedRequest: return "malformed-request";
    case SaslFailure::MechanismTooWeak: return "mechanism-too-weak";
    case SaslFailure::NotAuthorized: return "not-authorized";
    case SaslFailure::TemporaryAuthFailure: return "temporary-auth-failure";
    }
    return "not-authorized";
}

std::string sasl_failure_xml(SaslFailure failure, std::string_view text)
{
    std::string out;
    xml::Writer w(out);
    w.open("failure").attr("xmlns", ns::sasl);
    w.open(to_string(failure)).close();
    if (!text.empty()) w.leaf("text", text);
    w.close();
    return out;
}

}  // namespace tern::xmpp
