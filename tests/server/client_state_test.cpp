// XEP-0352 hold-back of presence for an inactive client, decided from envelope fields.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "envelopes.hpp"
#include "server/client_state.hpp"

using namespace tern;
using server::ClientState;

namespace {

server::Envelope piece(std::string_view bytes)
{
    return test::envelope(bytes);
}

std::vector<std::string> texts(const server::Envelopes& list)
{
    std::vector<std::string> out;
    for (const auto& e : list) out.emplace_back(e.bytes());
    return out;
}

}  // namespace

TEST_SUITE("server")
{
    TEST_CASE("client state holds nothing while active")
    {
        ClientState csi;
        CHECK(csi.active());
        CHECK_FALSE(csi.hold(piece("<presence from='a@x/1'/>")));
        CHECK_FALSE(csi.holding());
    }

    TEST_CASE("client state keeps the latest availability presence per sender, in arrival order")
    {
        ClientState csi;
        csi.set_active(false);
        const std::string a1 = "<presence from='a@x/1'><show>away</show></presence>";
        const std::string b1 = "<presence from='b@x/1'/>";
        const std::string a2 = "<presence from='a@x/1'/>";
        const std::string a_other = "<presence from='a@x/2' type='unavailable'/>";
        CHECK(csi.hold(piece(a1)));
        CHECK(csi.hold(piece(b1)));
        CHECK(csi.held_bytes() == a1.size() + b1.size());
        CHECK(csi.hold(piece(a2)));
        CHECK(csi.hold(piece(a_other)));
        CHECK(csi.held_bytes() == b1.size() + a2.size() + a_other.size());
        CHECK(texts(csi.take_held()) == std::vector<std::string>{b1, a2, a_other});
        CHECK_FALSE(csi.holding());
        CHECK(csi.held_bytes() == 0);
        CHECK(csi.take_held().empty());
    }

    TEST_CASE("client state never holds messages, IQs, or subscription and error presence")
    {
        ClientState csi;
        csi.set_active(false);
        CHECK_FALSE(csi.hold(piece("<message from='a@x/1'><body>b</body></message>")));
        CHECK_FALSE(csi.hold(piece("<iq from='a@x/1' type='get' id='1'/>")));
        for (const char* type : {"subscribe", "subscribed", "unsubscribe", "unsubscribed", "error", "probe"}) {
            CAPTURE(type);
            const std::string presence = std::string("<presence from='a@x' type='") + type + "'/>";
            CHECK_FALSE(csi.hold(piece(presence)));
        }
        CHECK_FALSE(csi.holding());
    }

    TEST_CASE("client state compares senders as addresses, not as escaped bytes")
    {
        ClientState csi;
        csi.set_active(false);
        CHECK(csi.hold(piece("<presence from='a&amp;b@x/1'/>")));
        CHECK(csi.hold(piece("<presence from=\"a&#38;b@x/1\"><show>dnd</show></presence>")));
        const auto held = csi.take_held();
        REQUIRE(held.size() == 1);
        CHECK(held[0].from() == "a&b@x/1");
        CHECK(held[0].bytes().find("dnd") != std::string::npos);
    }
}
