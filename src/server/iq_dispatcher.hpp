#pragma once

// The IQ table: (type, child namespace, child name) -> handler. RFC 6120 §8.2.3 is enforced here once for
// every module, and disco#info features are derived from the table, so a feature is advertised if and
// only if a handler answers it.
#include <map>
#include <optional>

#include <asio/awaitable.hpp>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "server/envelope.hpp"
#include "server/module_api.hpp"

namespace tern::server {

// The answer to one IQ: its reply (result or error), nothing when none is owed. Lazy: nothing runs until it
// is awaited.
using IqReply = asio::awaitable<std::optional<Envelope>>;

class IqDispatcher {
public:
    void add(std::string_view type, std::string_view ns, std::string_view name, Target target, IqHandler handler,
             Visibility visible = {});
    void add(std::string_view type, std::string_view ns, std::string_view name, Target target,
             InlineIqHandler handler, Visibility visible = {});
    // A feature served without an IQ handler of its own (e.g. a stream feature, or disco itself).
    void add_feature(std::string_view ns, Target target, Visibility visible = {});

    // Answers an IQ addressed to the server or to the requester's account. An IQ result or error is never
    // answered. The dispatcher must outlive the awaiting; `from.jid` and what `from` points to as well.
    IqReply dispatch(xml::Stanza iq, Requester from, Target target, std::chrono::system_clock::time_point now) const;
    // The same without a coroutine when that is possible: appends the reply (if one is owed) to `out` and
    // returns true if the IQ is refused, needs no answer or has an inline handler; false: dispatch() it.
    bool answer_inline(const xml::Stanza& iq, const Requester& from, Target target,
                       std::chrono::system_clock::time_point now, Envelopes& out) const;

    // The namespaces offered at `target` to this requester, sorted and unique.
    std::vector<std::string> features(Target target, const Requester& requester) const;

private:
    struct Entry {
        Target target;
        IqHandler handler;             // one of the two
        InlineIqHandler inline_handler;
        Visibility visible;
    };
    // The handler's entry, or null after appending the refusal to `out` (or nothing for a result or error).
    const Entry* find(const xml::Stanza& iq, Target target, std::string& out) const;
    static Envelope run_inline(const Entry& entry, const IqRequest& request);
    struct Feature {
        std::string ns;
        Target target;
        Visibility visible;
    };
    using Key = std::tuple<std::string, std::string, std::string>;  // type, ns, name
    using KeyView = std::tuple<std::string_view, std::string_view, std::string_view>;
    // Lookups by KeyView allocate nothing. Compares views only: clang 14 can't compare a tuple of
    // string_view with a tuple of string.
    struct KeyLess {
        using is_transparent = void;
        static KeyView view(const Key& k) { return {std::get<0>(k), std::get<1>(k), std::get<2>(k)}; }
        static KeyView view(const KeyView& k) { return k; }
        template <class A, class B>
        bool operator()(const A& a, const B& b) const { return view(a) < view(b); }
    };

    std::map<Key, Entry, KeyLess> handlers_;
    std::vector<Feature> features_;
};

}  // namespace tern::server
