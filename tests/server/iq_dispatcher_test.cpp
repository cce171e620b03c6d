// The dispatcher's RFC 6120 §8.2.3 rules, applied once for every module.
#include <doctest/doctest.h>

#include <stdexcept>

#include "im_world.hpp"
#include "../await_now.hpp"
#include "server/iq_dispatcher.hpp"
#include "xml/tokenizer.hpp"

using namespace tern;
using namespace tern::server;

namespace {

xml::Stanza iq(std::string_view text)
{
    xml::NamespaceScope scope;
    scope.bind({}, "jabber:client");
    auto parsed = xml::Stanza::parse(text, scope);
    REQUIRE(parsed);
    return std::move(*parsed);
}

struct Fixture {
    IqDispatcher dispatcher;
    xmpp::Jid jid = *xmpp::Jid::parse("alice@example.org/phone");
    Requester requester{jid, "192.0.2.1", 5000};
    int calls = 0;

    Fixture()
    {
        dispatcher.add("get", "urn:test", "query", Target::Server, inline_handler([this](const IqRequest& r, xml::Writer& w) -> IqResult {
            ++calls;
            w.open("query").attr("xmlns", "urn:test").text(r.payload.attr("echo")).close();
            return {};
        }));
        dispatcher.add("set", "urn:test", "fail", Target::Both, inline_handler([](const IqRequest&, xml::Writer& w) -> IqResult {
            w.open("partial");  // discarded: the error replaces everything the handler wrote
            return make_unexpected(xmpp::StanzaError::of(xmpp::StanzaErrorCondition::NotAllowed, "no"));
        }));
        dispatcher.add("get", "urn:test", "throw", Target::Both,
                       inline_handler([](const IqRequest&, xml::Writer&) -> IqResult { throw std::runtime_error("bug"); }));
        dispatcher.add("get", "urn:test:hidden", "q", Target::Server,
                       inline_handler([](const IqRequest&, xml::Writer&) -> IqResult { return {}; }),
                       [](const Requester& r) { return r.jid.domain() == "allowed.example"; });
    }

    std::string run(std::string_view text, Target target = Target::Server)
    {
        const auto out = test::await_now(dispatcher.dispatch(iq(text), requester, target, {}));
        if (!out) return {};
        return checked(*out);
    }

    // The reply's envelope says what its bytes say.
    static std::string checked(const Envelope& out)
    {
        const auto reply = test::stanzas(out.bytes());
        REQUIRE(reply.size() == 1);
        CHECK(out.is(StanzaKind::Iq));
        CHECK(out.type() == reply[0].type());
        CHECK(out.id() == reply[0].id());
        CHECK(out.to() == reply[0].to());
        CHECK(out.from() == reply[0].from());
        return std::string(out.bytes());
    }
};

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("dispatcher answers a registered IQ with the handler's payload, addressed back")
    {
        Fixture f;
        CHECK(f.run("<iq type='get' id='1' from='alice@example.org/phone' to='example.org'><query xmlns='urn:test' echo='hi'/></iq>") ==
              "<iq type='result' id='1' to='alice@example.org/phone' from='example.org'><query xmlns='urn:test'>hi</query></iq>");
    }

    TEST_CASE("dispatcher: unknown namespace, wrong type or wrong target is service-unavailable")
    {
        Fixture f;
        for (const std::string_view text : {"<iq type='get' id='2'><query xmlns='urn:other'/></iq>",
                                            "<iq type='set' id='2'><query xmlns='urn:test'/></iq>"}) {
            CAPTURE(text);
            const std::string out = f.run(text);
            CHECK(out.find("type='error'") != std::string::npos);
            CHECK(out.find("id='2'") != std::string::npos);
            CHECK(out.find("<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>") != std::string::npos);
        }
        CHECK(f.run("<iq type='get' id='3'><query xmlns='urn:test'/></iq>", Target::Account).find("service-unavailable") !=
              std::string::npos);
        CHECK(f.calls == 0);
    }

    TEST_CASE("dispatcher: the error echoes the request's child and keeps its id")
    {
        Fixture f;
        const std::string out = f.run("<iq type='get' id='e1'><query xmlns='urn:other'><x/></query></iq>");
        CHECK(out.find("<query xmlns=\"urn:other\"><x/></query>") != std::string::npos);
        CHECK(out.find("id='e1'") != std::string::npos);
    }

    TEST_CASE("dispatcher: get/set need exactly one child and an id; bad types are refused")
    {
        Fixture f;
        CHECK(f.run("<iq type='get' id='4'/>").find("<bad-request") != std::string::npos);
        CHECK(f.run("<iq type='get' id='5'><query xmlns='urn:test'/><query xmlns='urn:test'/></iq>").find("<bad-request") !=
              std::string::npos);
        CHECK(f.run("<iq type='get'><query xmlns='urn:test'/></iq>").find("<bad-request") != std::string::npos);
        CHECK(f.run("<iq type='fetch' id='6'><query xmlns='urn:test'/></iq>").find("<bad-request") != std::string::npos);
        CHECK(f.calls == 0);
    }

    TEST_CASE("dispatcher never answers results or errors")
    {
        Fixture f;
        CHECK(f.run("<iq type='result' id='7'/>").empty());
        CHECK(f.run("<iq type='error' id='8'><query xmlns='urn:test'/></iq>").empty());
    }

    TEST_CASE("dispatcher: a handler's error replaces its partial output; an exception is internal-server-error")
    {
        Fixture f;
        const std::string failed = f.run("<iq type='set' id='9'><fail xmlns='urn:test'/></iq>");
        CHECK(failed.find("partial") == std::string::npos);
        CHECK(failed.find("<not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>") != std::string::npos);
        CHECK(failed.find("<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no</text>") != std::string::npos);
        const std::string thrown = f.run("<iq type='get' id='10'><throw xmlns='urn:test'/></iq>");
        CHECK(thrown.find("<internal-server-error") != std::string::npos);
        // The dispatcher is still usable afterwards.
        CHECK(f.run("<iq type='get' id='11'><query xmlns='urn:test'/></iq>").find("type='result'") != std::string::npos);
    }

    TEST_CASE("dispatcher answers inline handlers and refusals without a coroutine, leaves awaitable ones")
    {
        Fixture f;
        f.dispatcher.add("get", "urn:test:async", "q", Target::Server,
                         [](const IqRequest&, xml::Writer& w) -> asio::awaitable<IqResult> {
                             w.open("q").attr("xmlns", "urn:test:async").close();
                             co_return IqResult{};
                         });
        Envelopes out;
        out.push_back(Envelope::make({StanzaKind::Message, "", "", "chat", ""}, "<message type='chat'/>"));
        CHECK(f.dispatcher.answer_inline(iq("<iq type='get' id='1'><query xmlns='urn:test' echo='x'/></iq>"),
                                         f.requester, Target::Server, {}, out));
        REQUIRE(out.size() == 2);  // appended
        CHECK(out[0].bytes() == "<message type='chat'/>");
        CHECK(Fixture::checked(out[1]) == "<iq type='result' id='1'><query xmlns='urn:test'>x</query></iq>");
        out.clear();
        CHECK(f.dispatcher.answer_inline(iq("<iq type='get' id='2'><nope xmlns='urn:none'/></iq>"), f.requester,
                                         Target::Server, {}, out));
        REQUIRE(out.size() == 1);
        CHECK(Fixture::checked(out[0]).find("<service-unavailable") != std::string::npos);
        out.clear();
        CHECK(f.dispatcher.answer_inline(iq("<iq type='result' id='4'/>"), f.requester, Target::Server, {}, out));
        CHECK(out.empty());  // a result is never answered
        const xml::Stanza async = iq("<iq type='get' id='3'><q xmlns='urn:test:async'/></iq>");
        CHECK_FALSE(f.dispatcher.answer_inline(async, f.requester, Target::Server, {}, out));
        CHECK(out.empty());
        CHECK(f.run("<iq type='get' id='3'><q xmlns='urn:test:async'/></iq>") ==
              "<iq type='result' id='3'><q xmlns='urn:test:async'/></iq>");
    }

    TEST_CASE("dispatcher derives features from the table, by target and visibility")
    {
        Fixture f;
        CHECK(f.dispatcher.features(Target::Server, f.requester) == std::vector<std::string>{"urn:test"});
        CHECK(f.dispatcher.features(Target::Account, f.requester) == std::vector<std::string>{"urn:test"});
        const xmpp::Jid allowed = *xmpp::Jid::parse("bob@allowed.example/x");
        const Requester other{allowed, "192.0.2.2", 1};
        CHECK(f.dispatcher.features(Target::Server, other) == std::vector<std::string>{"urn:test", "urn:test:hidden"});
    }
}
