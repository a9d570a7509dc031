#include "membership/replay_window.hpp"

#include <catch2/catch.hpp>

using rpcnetd::membership::replay_window;
using verdict = replay_window::verdict;

TEST_CASE("replay_window: each stamp is accepted once", "[membership][replay]") {
    replay_window w;
    CHECK_FALSE(w.started());
    CHECK(w.check(7, 1) == verdict::accepted);
    CHECK(w.check(7, 1) == verdict::replayed);
    CHECK(w.check(7, 2) == verdict::accepted);
    CHECK(w.check(7, 2) == verdict::replayed);
    CHECK(w.check(7, 1) == verdict::replayed);
    CHECK(w.highest() == 2);
    CHECK(w.generation() == 7);
}

TEST_CASE("replay_window: reordering within the window is tolerated, once each",
          "[membership][replay]") {
    replay_window w;
    REQUIRE(w.check(1, 100) == verdict::accepted);
    // Gaps (the sender's other destinations) and late arrivals.
    CHECK(w.check(1, 110) == verdict::accepted);
    CHECK(w.check(1, 105) == verdict::accepted);
    CHECK(w.check(1, 101) == verdict::accepted);
    CHECK(w.check(1, 105) == verdict::replayed);
    CHECK(w.check(1, 110) == verdict::replayed);
    CHECK(w.check(1, 100) == verdict::replayed);
    CHECK(w.check(1, 109) == verdict::accepted);

    SECTION("the oldest sequence still inside the window") {
        const auto top = 110 + replay_window::window_size - 1;
        CHECK(w.check(1, top) == verdict::accepted);  // 110 is now the oldest slot
        CHECK(w.check(1, 110) == verdict::replayed);
        CHECK(w.check(1, 111) == verdict::accepted);
        CHECK(w.check(1, 109) == verdict::too_old);
    }
}

TEST_CASE("replay_window: replays older than the window are refused", "[membership][replay]") {
    replay_window w;
    REQUIRE(w.check(1, 5) == verdict::accepted);
    REQUIRE(w.check(1, 6) == verdict::accepted);
    // A jump larger than the window clears it: everything before is too old.
    CHECK(w.check(1, 6 + replay_window::window_size + 10) == verdict::accepted);
    CHECK(w.check(1, 6) == verdict::too_old);
    CHECK(w.check(1, 7) == verdict::too_old);  // never seen, but outside the window
    CHECK(w.check(1, 6 + replay_window::window_size + 9) == verdict::accepted);
}

TEST_CASE("replay_window: a restarted sender (new generation) is accepted, its old life not",
          "[membership][replay]") {
    replay_window w;
    for (std::uint64_t s = 1; s <= 50; ++s) {
        REQUIRE(w.check(1000, s) == verdict::accepted);
    }
    // Restart: sequences start over under a larger generation.
    CHECK(w.check(2000, 1) == verdict::accepted);
    CHECK(w.check(2000, 2) == verdict::accepted);
    CHECK(w.check(2000, 1) == verdict::replayed);
    // Anything captured from the previous life is refused, even unseen sequence numbers.
    CHECK(w.check(1000, 50) == verdict::stale_generation);
    CHECK(w.check(1000, 51) == verdict::stale_generation);
    CHECK(w.generation() == 2000);
    CHECK(w.highest() == 2);
}
