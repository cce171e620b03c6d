#include "sasl/mechanism.hpp"

#include "support.hpp"

#include <doctest/doctest.h>

using namespace tern;
using namespace tern::sasl;

namespace {

const std::vector<std::string> all = {"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256",
                                      "SCRAM-SHA-256-PLUS"};

ServerContext context(bool tls, std::vector<ChannelBinding> bindings = {})
{
    ServerContext ctx;
    ctx.tls = tls;
    ctx.bindings = std::move(bindings);
    return ctx;
}

}  // namespace

TEST_SUITE("sasl")
{
    TEST_CASE("offered_mechanisms orders strongest first and needs TLS for PLAIN and bindings for PLUS")
    {
        CHECK(offered_mechanisms(all, context(false)) == std::vector<std::string>{"SCRAM-SHA-256", "SCRAM-SHA-1"});
        CHECK(offered_mechanisms(all, context(true)) ==
              std::vector<std::string>{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"});
        CHECK(offered_mechanisms(all, context(true, {{"tls-exporter", std::string(32, 'x')}})) ==
              std::vector<std::string>{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1",
                                       "PLAIN"});
    }

    TEST_CASE("offered_mechanisms offers only configured known names")
    {
        const ServerContext ctx = context(true, {{"tls-exporter", "x"}});
        CHECK(offered_mechanisms({"PLAIN", "DIGEST-MD5", "scram-sha-1", "SCRAM-SHA-1"}, ctx) ==
              std::vector<std::string>{"SCRAM-SHA-1", "PLAIN"});
        CHECK(offered_mechanisms({}, ctx).empty());
    }

    TEST_CASE("make_mechanism knows the offered names and nothing else")
    {
        const ServerContext plain_tcp = context(false);
        const ServerContext tls = context(true);
        const ServerContext tls_cb = context(true, {{"tls-exporter", "x"}});
        CHECK(make_mechanism("SCRAM-SHA-1", plain_tcp) != nullptr);
        CHECK(make_mechanism("SCRAM-SHA-256", plain_tcp) != nullptr);
        CHECK(make_mechanism("PLAIN", plain_tcp) == nullptr);
        CHECK(make_mechanism("PLAIN", tls) != nullptr);
        CHECK(make_mechanism("SCRAM-SHA-256-PLUS", tls) == nullptr);
        CHECK(make_mechanism("SCRAM-SHA-1-PLUS", tls) == nullptr);
        CHECK(make_mechanism("SCRAM-SHA-256-PLUS", tls_cb) != nullptr);
        CHECK(make_mechanism("SCRAM-SHA-1-PLUS", tls_cb) != nullptr);
        for (std::string_view name : {"", "scram-sha-1", "SCRAM-SHA-512", "DIGEST-MD5", "EXTERNAL", "ANONYMOUS",
                                      "PLAIN ", "SCRAM-SHA-1-PLUS-PLUS"})
            CHECK(make_mechanism(name, tls_cb) == nullptr);
    }

    TEST_CASE("step constructors set kind, data and failure")
    {
        const Step c = Step::challenge("abc");
        CHECK(c.kind == Step::Kind::Challenge);
        CHECK(c.data == "abc");
        const Step s = Step::success();
        CHECK(s.kind == Step::Kind::Success);
        CHECK(s.data.empty());
        const Step f = Step::fail(xmpp::SaslFailure::InvalidAuthzid, "why");
        CHECK(f.kind == Step::Kind::Failure);
        CHECK(f.failure == xmpp::SaslFailure::InvalidAuthzid);
        CHECK(f.text == "why");
    }
}
