#include "failure/awareness.hpp"
#include "failure/suspicion.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;
using rpcnetd::common::time_point;
using namespace rpcnetd::failure;

namespace {
const time_point t0 = time_point{} + 1000s;
}

TEST_CASE("suspicion: Lifeguard minimum timeout", "[failure]") {
    CHECK(suspicion_min_timeout(4, 10, 200ms) == 800ms);
    CHECK(suspicion_min_timeout(4, 100, 200ms) == 1600ms);
    CHECK(suspicion_min_timeout(4, 1000, 200ms) == 2400ms);
    CHECK(suspicion_min_timeout(4, 3, 200ms) == 800ms);  // log10 below 1 counts as 1
    CHECK(suspicion_min_timeout(5, 0, 200ms) == 1000ms);
    SECTION("never below four probe periods") {
        CHECK(suspicion_min_timeout(1, 10, 200ms) == 800ms);
    }
}

TEST_CASE("suspicion: timeout shrinks with confirmations", "[failure]") {
    const auto min = std::chrono::duration_cast<rpcnetd::common::duration>(800ms);
    const auto max = std::chrono::duration_cast<rpcnetd::common::duration>(4800ms);
    CHECK(suspicion_timeout(min, max, 0, 2) == max);
    // 4800 - 4000 * log(2) / log(3) = 2276.28 ms
    const double c1 =
        std::chrono::duration<double, std::milli>(suspicion_timeout(min, max, 1, 2)).count();
    CHECK(c1 == Approx(2276.28).epsilon(1e-4));
    CHECK(suspicion_timeout(min, max, 2, 2) == min);
    CHECK(suspicion_timeout(min, max, 7, 2) == min);
    CHECK(suspicion_timeout(min, max, 0, 0) == min);  // nobody to confirm: start at min
    CHECK(suspicion_timeout(max, min, 0, 3) == max);  // min >= max: min wins
}

TEST_CASE("suspicion: independent confirmations", "[failure]") {
    suspicion s("a", 2, 800ms, 4800ms, t0);
    CHECK(s.deadline() == t0 + 4800ms);
    CHECK_FALSE(s.confirm("a"));  // the accuser does not confirm itself
    CHECK(s.confirm("b"));
    CHECK_FALSE(s.confirm("b"));  // counted once
    CHECK(s.confirmations() == 1);
    CHECK(s.deadline() < t0 + 2300ms);
    CHECK(s.deadline() > t0 + 2200ms);
    CHECK(s.confirm("c"));
    CHECK(s.deadline() == t0 + 800ms);
    CHECK_FALSE(s.confirm("d"));  // K reached: nothing more to gain
}

TEST_CASE("awareness: local health multiplier scales and saturates", "[failure]") {
    awareness a(8);
    CHECK(a.score() == 0);
    CHECK(a.scale(200ms) == 200ms);
    a.apply_delta(3);
    CHECK(a.scale(100ms) == 400ms);
    a.apply_delta(100);
    CHECK(a.score() == 7);
    CHECK(a.scale(200ms) == 1600ms);
    a.apply_delta(-100);
    CHECK(a.score() == 0);
}
