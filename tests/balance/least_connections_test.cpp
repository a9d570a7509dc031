#include "balance/least_connections.hpp"

#include "balance/scripted_rng.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <vector>

using rpcnetd::balance::backend;
using rpcnetd::balance::least_connections;
using rpcnetd::balance::random_source;
using rpcnetd::test::scripted_rng;

TEST_CASE("least_connections: a unique minimum is picked without drawing", "[balance]") {
    least_connections lc;
    const std::array<backend, 4> b{{{"a", 5}, {"b", 2}, {"c", 9}, {"d", 3}}};
    scripted_rng none({});
    random_source s(none);
    CHECK(*lc.pick(b, s) == 1);
    CHECK(none.draws() == 0);
}

TEST_CASE("least_connections: ties are broken by one draw among the minimum", "[balance]") {
    least_connections lc;
    // minimum 1 held by a (0), c (2) and e (4): draw x picks the (x % 3)-th of them.
    const std::array<backend, 5> b{{{"a", 1}, {"b", 4}, {"c", 1}, {"d", 2}, {"e", 1}}};
    scripted_rng g({0, 1, 2, 4});
    random_source s(g);
    CHECK(*lc.pick(b, s) == 0);
    CHECK(*lc.pick(b, s) == 2);
    CHECK(*lc.pick(b, s) == 4);
    CHECK(*lc.pick(b, s) == 2);
    CHECK(g.exhausted());
}

TEST_CASE("least_connections: ties are spread evenly with a fixed seed", "[balance]") {
    // 3 tied backends, 30000 picks from seed 7: each expected 10000 (sd ~82); tolerance 5%.
    least_connections lc;
    const std::array<backend, 4> b{{{"a", 0}, {"b", 0}, {"c", 1}, {"d", 0}}};
    rpcnetd::common::rng r(7);
    std::array<int, 4> count{};
    for (int i = 0; i < 30000; ++i) {
        ++count[*lc.pick(b, r)];
    }
    CHECK(count[2] == 0);
    CHECK(count[0] == Approx(10000).margin(500));
    CHECK(count[1] == Approx(10000).margin(500));
    CHECK(count[3] == Approx(10000).margin(500));
}

TEST_CASE("least_connections: 30 concurrent clients over 3 workers end within +-1", "[balance]") {
    least_connections lc;
    rpcnetd::common::rng r(2026);
    std::vector<backend> b{{"a", 0}, {"b", 0}, {"c", 0}};
    for (int i = 0; i < 30; ++i) {
        ++b[*lc.pick(b, r)].active;
        const auto [lo, hi] =
            std::minmax_element(b.begin(), b.end(), [](const backend& x, const backend& y) {
                return x.active < y.active;
            });
        CHECK(hi->active - lo->active <= 1);
    }
    CHECK(b[0].active == 10);
    CHECK(b[1].active == 10);
    CHECK(b[2].active == 10);
}
