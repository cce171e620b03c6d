#pragma once

// Protocol error conditions as values (RFC 6120 §4.9 stream errors, §6.5 SASL failures, §8.3 stanza errors)
// and their serialized forms.
#include <string>
#include <string_view>
#include <utility>

#include "xml/error.hpp"

namespace tern::xml {
class Stanza;
}

namespace tern::xmpp {

// RFC 6120 §4.9.3, in its order.
enum class StreamErrorCondition {
    BadFormat,
    BadNamespacePrefix,
    Conflict,
    ConnectionTimeout,
    HostGone,
    HostUnknown,
    ImproperAddressing,
    InternalServerError,
    InvalidFrom,
    InvalidNamespace,
    InvalidXml,
    NotAuthorized,
    NotWellFormed,
    PolicyViolation,
    RemoteConnectionFailed,
    Reset,
    ResourceConstraint,
    RestrictedXml,
    SeeOtherHost,
    SystemShutdown,
    UndefinedCondition,
    UnsupportedEncoding,
    UnsupportedFeature,
    UnsupportedStanzaType,
    UnsupportedVersion,
};

// The condition's element name, e.g. "not-well-formed".
std::string_view to_string(StreamErrorCondition condition);

// `<stream:error><cond xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>[<text xmlns=...>text</text>]</stream:error>`.
// The stream prefix is the one tern's stream header binds; the caller closes the stream afterwards.
std::string stream_error_xml(StreamErrorCondition condition, std::string_view text = {});

// The stream error to send for a framing or parsing error found by xml/.
StreamErrorCondition from_xml_error(xml::ErrorCondition condition);

// RFC 6120 §8.3.3, in its order.
enum class StanzaErrorCondition {
    BadRequest,
    Conflict,
    FeatureNotImplemented,
    Forbidden,
    Gone,
    InternalServerError,
    ItemNotFound,
    JidMalformed,
    NotAcceptable,
    NotAllowed,
    NotAuthorized,
    PolicyViolation,
    RecipientUnavailable,
    Redirect,
    RegistrationRequired,
    RemoteServerNotFound,
    RemoteServerTimeout,
    ResourceConstraint,
    ServiceUnavailable,
    SubscriptionRequired,
    UndefinedCondition,
    UnexpectedRequest,
};

enum class StanzaErrorType { Auth, Cancel, Continue, Modify, Wait };

std::string_view to_string(StanzaErrorCondition condition);  // element name, e.g. "item-not-found"
std::string_view to_string(StanzaErrorType type);            // attribute value, e.g. "cancel"

// The type RFC 6120 §8.3.3 associates with the condition (the first one where it allows two;
// undefined-condition, which allows any, gets cancel).
StanzaErrorType default_type(StanzaErrorCondition condition);

struct StanzaError {
    StanzaErrorType type = StanzaErrorType::Cancel;
    StanzaErrorCondition condition = StanzaErrorCondition::UndefinedCondition;
    std::string text;  // optional human-readable <text/>

    // The condition with its default type.
    static StanzaError of(StanzaErrorCondition condition, std::string text = {})
    {
        return StanzaError{default_type(condition), condition, std::move(text)};
    }

    friend bool operator==(const StanzaError&, const StanzaError&) = default;
};

// `<error type='..'><cond xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>[<text xmlns=...>..</text>]</error>`.
void append_stanza_error(std::string& out, const StanzaError& error);

// What an error reply needs to know about the stanza it answers.
struct OriginalStanza {
    std::string_view name;     // "iq", "message" or "presence"
    std::string_view id;       // copied when not empty
    std::string_view to;       // becomes the reply's 'from' when not empty
    std::string_view from;     // becomes the reply's 'to' when not empty
    std::string_view payload;  // serialized XML echoed before <error/> (RFC 6120 §8.3.1), may be empty
};

// `<name from=.. to=.. type='error' id=..>payload<error ..>..</error></name>` (RFC 6120 §8.3.1). Callers must
// not answer a stanza that is itself of type error (or an IQ result).
void append_error_reply(std::string& out, const OriginalStanza& original, const StanzaError& error);

// The same for a parsed stanza: an IQ's first child element is echoed, a message's or presence's payload is not.
void append_error_reply(std::string& out, const xml::Stanza& original, const StanzaError& error);

// RFC 6120 §6.5, in its order.
enum class SaslFailure {
    Aborted,
    AccountDisabled,
    CredentialsExpired,
    EncryptionRequired,
    IncorrectEncoding,
    InvalidAuthzid,
    InvalidMechanism,
    MalformedRequest,
    MechanismTooWeak,
    NotAuthorized,
    TemporaryAuthFailure,
};

std::string_view to_string(SaslFailure failure);  // element name, e.g. "not-authorized"

// `<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><cond/>[<text>..</text>]</failure>`.
std::string sasl_failure_xml(SaslFailure failure, std::string_view text = {});

}  // namespace tern::xmpp
