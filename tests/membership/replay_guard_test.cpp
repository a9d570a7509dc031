#include "membership/replay_guard.hpp"

#include <catch2/catch.hpp>

using rpcnetd::membership::replay_guard;
using verdict = rpcnetd::membership::replay_window::verdict;

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
