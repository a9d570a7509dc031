#include "balance/random_pick.hpp"

#include "balance/scripted_rng.hpp"

#include <catch2/catch.hpp>

#include <array>

using rpcnetd::balance::backend;
using rpcnetd::balance::random_pick;
using rpcnetd::balance::random_source;
using rpcnetd::test::scripted_rng;

TEST_CASE("random_pick: one draw per pick, index = draw % n, load ignored", "[balance]") {
    random_pick p;
    const std::array<backend, 3> b{{{"a", 0}, {"b", 100}, {"c", 7}}};
    scripted_rng g({4, 2, 9, 0});
    random_source s(g);
    CHECK(*p.pick(b, s) == 1);
    CHECK(*p.pick(b, s) == 2);
    CHECK(*p.pick(b, s) == 0);
    CHECK(*p.pick(b, s) == 0);
    CHECK(g.exhausted());
}

TEST_CASE("random_pick: uniform with a fixed seed", "[balance]") {
    // 4 backends, 40000 picks from seed 42: each expected 10000, standard deviation ~87; a 5%
    // tolerance (500) is over 5 sigma, so this fails only if the pick is biased.
    random_pick p;
    const std::array<backend, 4> b{{{"a", 0}, {"b", 0}, {"c", 0}, {"d", 0}}};
    rpcnetd::common::rng r(42);
    std::array<int, 4> count{};
    for (int i = 0; i < 40000; ++i) {
        ++count[*p.pick(b, r)];
    }
    for (const int c : count) {
        CHECK(c == Approx(10000).margin(500));
    }
}
