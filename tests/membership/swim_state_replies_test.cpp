// Strict replies (issue #5): answers go to the datagram's UDP source, ping-req relays only to the
// named member at the address we hold for it, never to an address a datagram supplies.
#include "support/swim_harness.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace rpcnetd;
using membership::member_status;
namespace wire = membership::wire;

namespace {

using harness = test::swim_harness;

template <typename Msg>
std::optional<Msg> first_as(const membership::outbound& o) {
    auto decoded = wire::decode_packet(o.payload);
    if (!decoded || decoded->messages.empty()) {
        return std::nullopt;
    }
    if (const auto m = std::get_if<Msg>(&decoded->messages.front())) {
        return *m;
    }
    return std::nullopt;
}

} // namespace

TEST_CASE("swim_state: a ping is acked to the datagram's source address", "[membership]") {
    harness h;
    // The sender claims to be b, but the datagram came from another address: the ack goes to
    // the source, not to b's known address.
    auto out = h.deliver({"h", 9}, "b", wire::ping_msg{5, "a"});
    REQUIRE(out.size() == 1);
    CHECK(out[0].to == common::endpoint{"h", 9});
    const auto ack = first_as<wire::ack_msg>(out[0]);
    REQUIRE(ack);
    CHECK(ack->seq == 5);
}

TEST_CASE("swim_state: ping-req relays only to the named member's known address",
          "[membership]") {
    harness h;
    SECTION("known member at its known address: one ping to it, the ack relayed to the source") {
        auto out = h.deliver({"h", 2}, "b", wire::ping_req_msg{6, "c", {"h", 3}});
        REQUIRE(out.size() == 1);
        CHECK(out[0].to == common::endpoint{"h", 3});
        const auto ping = first_as<wire::ping_msg>(out[0]);
        REQUIRE(ping);
        CHECK(ping->target == "c");
        auto relayed = h.deliver({"h", 3}, "c", wire::ack_msg{ping->seq});
        REQUIRE(relayed.size() == 1);
        CHECK(relayed[0].to == common::endpoint{"h", 2});
        const auto ack = first_as<wire::ack_msg>(relayed[0]);
        REQUIRE(ack);
        CHECK(ack->seq == 6);
    }
    SECTION("a known name with a foreign address: no ping anywhere, a nack to the source") {
        const auto before = h.s.counters().misdirected;
        auto out = h.deliver({"h", 2}, "b", wire::ping_req_msg{7, "c", {"victim", 80}});
        REQUIRE(out.size() == 1);
        CHECK(out[0].to == common::endpoint{"h", 2});
        const auto nack = first_as<wire::nack_msg>(out[0]);
        REQUIRE(nack);
        CHECK(nack->seq == 7);
        CHECK(h.s.counters().misdirected == before + 1);
    }
    SECTION("an unknown name: no ping anywhere, a nack to the source") {
        auto out = h.deliver({"h", 2}, "b", wire::ping_req_msg{8, "zed", {"h", 4}});
        REQUIRE(out.size() == 1);
        CHECK(out[0].to == common::endpoint{"h", 2});
        CHECK(first_as<wire::nack_msg>(out[0]));
    }
}
