// Strict replies (issue #5): answers go to the datagram's UDP source, ping-req relays only to the
// named member at the address we hold for it, never to an address a datagram supplies.
#include "membership/swim_state.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace rpcnetd;
using membership::member_status;
namespace wire = membership::wire;

namespace {

struct harness {
    common::rng rng{3};
    common::time_point t0 = common::time_point{} + 100s;
    membership::swim_state s;

    harness() : s(config(), "a", {"h", 1}, {}, rng, t0) {
        s.seed_members({{"b", {"h", 2}, 0, member_status::alive, {}},
                        {"c", {"h", 3}, 0, member_status::alive, {}}},
                       t0);
    }
    static membership::swim_config config() {
        membership::swim_config c;
        c.probe_interval = 10s;  // no round-robin probe gets in the way
        c.gossip_interval = 10s;
        return c;
    }
    std::vector<membership::outbound> deliver(const common::endpoint& from,
                                              const std::string& sender, wire::message m) {
        const std::vector<wire::message> ms{std::move(m)};
        return s.on_datagram(from, wire::encode_packet(sender, ms), t0 + 1ms);
    }
};

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
