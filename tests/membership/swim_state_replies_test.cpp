// Strict replies (issue #5): answers go to the datagram's UDP source, ping-req relays only to the
// named member at the address we hold for it, never to an address a datagram supplies.
#include "support/swim_harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

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

}  // namespace

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

TEST_CASE("swim_state: ping-req relays only to the named member's known address", "[membership]") {
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

TEST_CASE("swim_state: without a key, a source that is not a member gets no amplification",
          "[membership]") {
    harness h;
    // Something to piggyback: an update about a new member, queued for gossip.
    (void)h.deliver({"h", 2}, "b", wire::alive_msg{"d", {"h", 4}, 1, {{"role", "worker"}}});
    REQUIRE(h.s.broadcasts_pending());
    const std::vector<wire::message> ping{wire::ping_msg{5, "a"}};
    const auto request = wire::encode_packet("b", ping);

    SECTION("a member at its own address gets the ack with piggybacked updates") {
        auto out = h.s.on_datagram({"h", 2}, request, h.t0 + 2ms);
        REQUIRE(out.size() == 1);
        const auto decoded = wire::decode_packet(out[0].payload);
        REQUIRE(decoded.has_value());
        CHECK(decoded->messages.size() > 1);
        CHECK(out[0].payload.size() > request.size());
    }
    SECTION("any other source: the bare ack, never more bytes than the ping carried") {
        const auto before = h.s.counters().replies_limited;
        auto out = h.s.on_datagram({"victim", 80}, request, h.t0 + 2ms);
        REQUIRE(out.size() == 1);
        CHECK(out[0].to == common::endpoint{"victim", 80});
        CHECK(out[0].payload.size() <= request.size());
        const auto decoded = wire::decode_packet(out[0].payload);
        REQUIRE(decoded.has_value());
        CHECK(decoded->messages.size() == 1);
        CHECK(h.s.counters().replies_limited == before);
    }
    SECTION("replies to one unknown source are rate-limited, per source") {
        const auto before = h.s.counters().replies_limited;
        std::size_t answered = 0;
        for (int i = 0; i < 100; ++i) {
            answered += h.s.on_datagram({"victim", 80}, request, h.t0 + 2ms).size();
        }
        CHECK(answered == 10);  // swim_config::unknown_reply_rate: burst 10, 10/s
        CHECK(h.s.counters().replies_limited == before + 90);
        CHECK(h.s.on_datagram({"other", 80}, request, h.t0 + 2ms).size() == 1);
        // One second later the bucket has refilled.
        answered = 0;
        for (int i = 0; i < 100; ++i) {
            answered += h.s.on_datagram({"victim", 80}, request, h.t0 + 1002ms).size();
        }
        CHECK(answered == 10);
    }
}

TEST_CASE("swim_state: with a key (authenticated datagrams), replies are not limited",
          "[membership]") {
    common::rng rng{3};
    const auto t0 = common::time_point{} + 100s;
    auto cfg = harness::config();
    cfg.authenticated = true;
    membership::swim_state s(cfg, "a", {"h", 1}, {}, rng, t0);
    const std::vector<wire::message> ping{wire::ping_msg{5, "a"}};
    const auto request = wire::encode_packet("b", ping);
    std::size_t answered = 0;
    for (int i = 0; i < 50; ++i) {
        answered += s.on_datagram({"h", 9}, request, t0 + 1ms).size();
    }
    CHECK(answered == 50);
    CHECK(s.counters().replies_limited == 0);
}

TEST_CASE("swim_state: one push-pull adds at most max_push_pull_members new members",
          "[membership]") {
    common::rng rng{3};
    const auto t0 = common::time_point{} + 100s;
    auto cfg = harness::config();
    cfg.max_push_pull_members = 5;
    membership::swim_state s(cfg, "a", {"h", 1}, {}, rng, t0);
    s.seed_members({{"b", {"h", 2}, 1, member_status::alive, {}}}, t0);
    std::vector<membership::member> remote;
    remote.push_back({"b", {"h", 2}, 7, member_status::alive, {}});  // known: always merged
    for (std::uint16_t i = 0; i < 20; ++i) {
        remote.push_back({"n" + std::to_string(i),
                          {"h", static_cast<std::uint16_t>(100 + i)},
                          1,
                          member_status::alive,
                          {}});
    }
    s.merge_remote_state(remote, t0 + 1ms);
    CHECK(s.members().size() == 1 + 1 + 5);  // self, b, five new
    CHECK(s.find("b")->incarnation == 7);
    CHECK(s.counters().push_pull_members_dropped == 15);
    // The next exchange may add five more.
    s.merge_remote_state(remote, t0 + 2ms);
    CHECK(s.members().size() == 1 + 1 + 10);
    CHECK(s.counters().push_pull_members_dropped == 15 + 10);
}

TEST_CASE("swim_state: probe numbers are random and an ack counts only from whom we asked",
          "[membership][replay]") {
    harness h;
    // Successive probes: numbers that do not follow from each other (a counter would give n, n+1).
    std::vector<std::uint32_t> seqs;
    for (int i = 0; i < 8; ++i) {
        const std::string target = i % 2 == 0 ? "b" : "c";
        const auto now = h.t0 + std::chrono::milliseconds(10 * i);
        for (const auto& o : h.s.probe_now(target, now)) {
            if (const auto ping = first_as<wire::ping_msg>(o)) {
                seqs.push_back(ping->seq);
                const std::vector<wire::message> ack{wire::ack_msg{ping->seq}};
                h.s.on_datagram(o.to, wire::encode_packet(target, ack), now + 1ms);
            }
        }
    }
    CHECK(h.s.drain_probe_rtts().size() == 8);  // every target's own ack counted
    REQUIRE(seqs.size() == 8);
    std::size_t consecutive = 0;
    for (std::size_t i = 1; i < seqs.size(); ++i) {
        consecutive += seqs[i] == seqs[i - 1] + 1 ? 1 : 0;
        CHECK(seqs[i] != 0);
    }
    CHECK(consecutive == 0);
    std::sort(seqs.begin(), seqs.end());
    CHECK(std::adjacent_find(seqs.begin(), seqs.end()) == seqs.end());

    // A probe of b in flight: c acking its number is not b answering.
    const auto at = h.t0 + std::chrono::milliseconds(500);
    std::optional<std::uint32_t> seq;
    for (const auto& o : h.s.probe_now("b", at)) {
        if (const auto ping = first_as<wire::ping_msg>(o)) {
            seq = ping->seq;
        }
    }
    REQUIRE(seq);
    (void)h.s.drain_probe_rtts();
    const auto before = h.s.counters().misdirected;
    const std::vector<wire::message> ack{wire::ack_msg{*seq}};
    h.s.on_datagram({"h", 3}, wire::encode_packet("c", ack), at + 1ms);
    CHECK(h.s.counters().misdirected == before + 1);
    CHECK(h.s.drain_probe_rtts().empty());
    // b's own ack finishes it.
    h.s.on_datagram({"h", 2}, wire::encode_packet("b", ack), at + 2ms);
    CHECK(h.s.drain_probe_rtts().size() == 1);
}
