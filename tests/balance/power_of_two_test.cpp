#include "balance/power_of_two.hpp"

#include "balance/scripted_rng.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <vector>

using rpcnetd::balance::backend;
using rpcnetd::balance::power_of_two;
using rpcnetd::balance::random_source;
using rpcnetd::test::scripted_rng;

TEST_CASE("power_of_two: one candidate is picked without drawing", "[balance]") {
    power_of_two p;
    const std::array<backend, 1> b{{{"a", 7, 0}}};
    scripted_rng none({});
    random_source s(none);
    CHECK(*p.pick(b, s) == 0);
    CHECK(none.draws() == 0);
}

TEST_CASE("power_of_two: exact picks from two scripted draws", "[balance]") {
    power_of_two p;
    // loads: a 5, b 1, c 3, d 1
    const std::array<backend, 4> b{{{"a", 5, 0}, {"b", 1, 0}, {"c", 3, 0}, {"d", 1, 0}}};
    // draws (0, 0): first = a, second = 0 shifted past 0 -> b; b less loaded.
    // draws (2, 0): first = c, second = a (0 < 2, no shift); c less loaded.
    // draws (3, 0): first = d, second = a; d wins.
    // draws (1, 2): first = b, second = 2 -> shifted to d (2 >= 1); tie 1 vs 1 -> first (b).
    scripted_rng g({0, 0, 2, 0, 3, 0, 1, 2});
    random_source s(g);
    CHECK(*p.pick(b, s) == 1);
    CHECK(*p.pick(b, s) == 2);
    CHECK(*p.pick(b, s) == 3);
    CHECK(*p.pick(b, s) == 1);
    CHECK(g.exhausted());
}

TEST_CASE("power_of_two: load is compared relative to capacity", "[balance]") {
    power_of_two p;
    // a: 6 of 8 (0.75); b: 2 of 2 (1.0); c: 1 without capacity (counts as capacity 1 -> 1.0)
    const std::array<backend, 3> b{{{"a", 6, 8}, {"b", 2, 2}, {"c", 1, 0}}};
    scripted_rng g({1, 0, 0, 1, 2, 0});
    random_source s(g);
    CHECK(*p.pick(b, s) == 0);  // b vs a: a (0.75 < 1.0)
    CHECK(*p.pick(b, s) == 0);  // a vs c: a
    CHECK(*p.pick(b, s) == 0);  // c vs a: a (0.75 < 1.0)
}

TEST_CASE("power_of_two: spreads picks over equal workers and favours the idle one", "[balance]") {
    power_of_two p;
    rpcnetd::common::rng g(11);
    std::vector<backend> b{{"a", 0, 0}, {"b", 0, 0}, {"c", 0, 0}, {"d", 0, 0}};
    std::array<int, 4> hits{};
    for (int i = 0; i < 4000; ++i) {
        ++hits[*p.pick(b, g)];
    }
    for (int h : hits) {
        CHECK(h > 800);  // 1000 expected each
        CHECK(h < 1200);
    }
    // Simulated load: each pick adds one stream; counts stay close (P2C keeps the gap small).
    for (auto& x : b) {
        x.active = 0;
    }
    for (int i = 0; i < 400; ++i) {
        ++b[*p.pick(b, g)].active;
    }
    std::uint32_t lo = 1000, hi = 0;
    for (const auto& x : b) {
        lo = std::min(lo, x.active);
        hi = std::max(hi, x.active);
    }
    CHECK(hi - lo <= 6);
}
