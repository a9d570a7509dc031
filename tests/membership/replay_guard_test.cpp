#include "membership/replay_guard.hpp"

#include <catch2/catch.hpp>

using rpcnetd::membership::replay_guard;
using rpcnetd::membership::replay_stamp;
using verdict = rpcnetd::membership::replay_window::verdict;

TEST_CASE("replay_stamp: round trip, and every truncation is refused", "[membership][replay]") {
    const std::vector<std::uint8_t> payload{1, 2, 3, 4, 5};
    const replay_stamp s{"worker-a", 0x0102030405060708ULL, 0x1112131415161718ULL};
    const auto wire = s.prepend_to(payload);
    REQUIRE(wire.size() == replay_stamp::size_for("worker-a") + payload.size());
    const auto split = replay_stamp::split(wire);
    REQUIRE(split);
    CHECK(split->first.sender == "worker-a");
    CHECK(split->first.generation == s.generation);
    CHECK(split->first.sequence == s.sequence);
    CHECK(std::vector<std::uint8_t>(split->second.begin(), split->second.end()) == payload);
    // Cut inside the stamp at every byte: refused, never read past the end.
    for (std::size_t n = 0; n < replay_stamp::size_for("worker-a"); ++n) {
        CHECK_FALSE(replay_stamp::split(std::span(wire.data(), n)));
    }
    // A name length larger than what follows.
    std::vector<std::uint8_t> lying{255, 'a', 'b'};
    CHECK_FALSE(replay_stamp::split(lying));
}

TEST_CASE("replay_guard: one window per sender, bounded", "[membership][replay]") {
    replay_guard g(2);
    CHECK(g.check({"a", 1, 1}) == verdict::accepted);
    CHECK(g.check({"b", 1, 1}) == verdict::accepted);  // same numbers, another sender
    CHECK(g.check({"a", 1, 1}) == verdict::replayed);
    CHECK(g.check({"b", 1, 1}) == verdict::replayed);
    CHECK(g.check({"a", 1, 2}) == verdict::accepted);  // a is now the most recent
    CHECK(g.check({"c", 1, 1}) == verdict::accepted);  // evicts b (least recently heard)
    CHECK(g.senders() == 2);
    CHECK(g.check({"a", 1, 2}) == verdict::replayed);  // a kept its window
}
