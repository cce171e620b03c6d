#pragma once

// The narrow interface between the server and its feature modules. A module registers IQ handlers in the
// dispatcher table at start-up; a handler gets the request and who sent it, writes the children of its
// result with an xml::Writer, or returns a stanza error. It never sees a socket, a TLS object, the router
// or another session.
//
// Handlers are awaitable (IqHandler): one may suspend (on the store, which runs off the I/O threads, on a
// timer, later on a remote domain) and the session's later stanzas wait their turn. A handler that never
// suspends is registered as an InlineIqHandler and answered inline, with no coroutine at all. A handler
// that suspends must not keep references into anything but its request, its reply writer and its own
// captures (the dispatcher outlives the call).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>

#include "base/expected.hpp"
#include "xml/stanza.hpp"
#include "xml/writer.hpp"
#include "xmpp/errors.hpp"
#include "xmpp/jid.hpp"

namespace tern::server {

// State a module keeps for one bound session between its stanzas, one slot per type, created on first
// use (so a session that never used a feature holds nothing for it). Owned by the session, touched only on
// its worker thread, moved along with it on an XEP-0198 resumption. A module declares its slot type
// beside its code; nothing here knows the modules.
class ModuleState {
public:
    template <class T>
    T& get()
    {
        if (T* found = find<T>()) return *found;
        slots_.push_back({&key<T>, std::make_unique<Slot<T>>()});
        return static_cast<Slot<T>&>(*slots_.back().slot).value;
    }
    template <class T>
    T* find() const
    {
        for (const auto& entry : slots_)
            if (entry.key == &key<T>) return &static_cast<Slot<T>&>(*entry.slot).value;
        return nullptr;
    }

private:
    struct SlotBase {
        virtual ~SlotBase() = default;
    };
    template <class T>
    struct Slot final : SlotBase {
        T value{};
    };
    template <class T>
    static inline const char key = 0;  // one address per slot type
    struct Entry {
        const char* key;
        std::unique_ptr<SlotBase> slot;
    };
    std::vector<Entry> slots_;
};

// What the server remembers about one bound session besides the stream: its RFC 6121 presence (the
// server's own presence component keeps it) and the modules' slots.
struct SessionState {
    struct Presence {
        bool available = false;             // sent initial presence and not unavailable since
        std::vector<std::string> directed;  // sent directed available presence outside its subscribers (§4.6.3)
    } presence;
    ModuleState modules;
};

class ClientHandle;
class AccountServices;

// The bound session an IQ comes from, as a handler may use it.
struct Requester {
    const xmpp::Jid& jid;       // full JID
    std::string_view address;   // IP address as the server sees it (the PROXY-protocol source when enabled)
    std::uint16_t port = 0;
    SessionState* state = nullptr;  // null when there is no bound session (unit tests of stateless handlers)
    // The session's entry in the registry: tells it apart from a newer session for the same full JID.
    const ClientHandle* client = nullptr;
    // Filled in by the router for IQ handlers; null elsewhere (and in unit tests that don't need it).
    AccountServices* account = nullptr;
};

// Where an IQ was addressed: the server's domain, the requester's own account (its bare JID, or no 'to'), or
// the bare JID of another local account (answered by the server on that account's behalf, RFC 6120
// §10.5.3.1; a handler registered for it can refuse, e.g. XEP-0279's forbidden). A bit set.
enum class Target : unsigned { Server = 1, Account = 2, Both = 3, OtherAccount = 4 };

constexpr Target operator|(Target a, Target b)
{
    return static_cast<Target>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}

constexpr bool includes(Target set, Target one)
{
    return (static_cast<unsigned>(set) & static_cast<unsigned>(one)) != 0;
}

struct IqRequest {
    const xml::Stanza& stanza;
    xml::Element payload;  // the single child element
    const Requester& from;
    Target target;         // Server, Account or OtherAccount
    std::chrono::system_clock::time_point now;
};

using IqResult = expected<void, xmpp::StanzaError>;
// Writes the children of <iq type='result'> (nothing for an empty result) or returns the error.
using IqHandler = std::function<asio::awaitable<IqResult>(const IqRequest& request, xml::Writer& reply)>;
// A handler that never suspends (most of them: an HMAC, a lookup in memory). Registered as such, it is
// answered inline, without a coroutine: the task that completes inline when nothing is awaited.
using InlineIqHandler = std::function<IqResult(const IqRequest& request, xml::Writer& reply)>;
inline InlineIqHandler inline_handler(InlineIqHandler handler) { return handler; }
// An item as a client asks for it in a roster set (RFC 6121 §2.3), already validated.
struct RosterChange {
    xmpp::Jid jid;  // bare
    std::string name;
    std::vector<std::string> groups;
};

// What a handler may do on the requester's account beyond answering: the roster the server keeps (which
// pushes every change to the account's interested resources and carries out the presence side of a
// removal, RFC 6121 §2) and the session's XEP-0280 carbons flag.
class AccountServices {
public:
    virtual ~AccountServices() = default;
    // Writes the <query/> of the result, or nothing when `known_version` is current (§2.6.3). The session
    // becomes an interested resource (it gets roster pushes from now on).
    virtual asio::awaitable<IqResult> roster_get(const Requester& session, std::optional<std::string_view> known_version,
                                xml::Writer& reply) = 0;
    virtual asio::awaitable<IqResult> roster_set(const Requester& session, const RosterChange& change) = 0;
    virtual asio::awaitable<IqResult> roster_remove(const Requester& session, const xmpp::Jid& contact) = 0;
    virtual void set_carbons(const Requester& session, bool enabled) = 0;
};

// Whether the feature is offered to this requester (disco lists it only then); default: to everyone.
using Visibility = std::function<bool(const Requester& requester)>;

}  // namespace tern::server
