#include "balance/balancer.hpp"

#include "balance/scripted_rng.hpp"

#include <catch2/catch.hpp>

#include <limits>

using rpcnetd::balance::make_balancer;
using rpcnetd::balance::random_source;
using rpcnetd::test::scripted_rng;

TEST_CASE("balancer: make_balancer knows the command-line names", "[balance]") {
    CHECK(make_balancer("least-connections")->name() == "least-connections");
    CHECK(make_balancer("round-robin")->name() == "round-robin");
    CHECK(make_balancer("random")->name() == "random");
    CHECK(make_balancer("weighted") == nullptr);
    CHECK(make_balancer("") == nullptr);
}

TEST_CASE("balancer: every strategy answers nullopt for no candidates", "[balance]") {
    rpcnetd::common::rng r(1);
    for (const char* name : {"least-connections", "round-robin", "random"}) {
        CHECK_FALSE(make_balancer(name)->pick({}, r).has_value());
    }
}

TEST_CASE("random_source: below() maps a scripted draw x to x % n", "[balance]") {
    scripted_rng g({0, 1, 2, 3, 7, 1000});
    random_source s(g);
    CHECK(s.below(3) == 0);
    CHECK(s.below(3) == 1);
    CHECK(s.below(3) == 2);
    CHECK(s.below(3) == 0);
    CHECK(s.below(5) == 2);
    CHECK(s.below(7) == 1000 % 7);
    CHECK(g.exhausted());

    SECTION("n <= 1 draws nothing") {
        scripted_rng none({});
        random_source t(none);
        CHECK(t.below(1) == 0);
        CHECK(t.below(0) == 0);
        CHECK(none.draws() == 0);
    }
    SECTION("draws in the biased tail are rejected and redrawn") {
        // 2^64 mod 3 == 1, so only the largest value is rejected; the next draw decides.
        constexpr auto top = std::numeric_limits<std::uint64_t>::max();
        scripted_rng tail({top, top - 1, 5});
        random_source t(tail);
        CHECK(t.below(3) == (top - 1) % 3);
        CHECK(tail.draws() == 2);
        CHECK(t.below(3) == 2);
        // n = 2^63 + 1: 2^64 mod n = 2^63 - 1, so draws >= n are rejected and draws < n accepted.
        const std::uint64_t n = (std::uint64_t{1} << 63) + 1;
        scripted_rng big({n, top, n - 1});
        random_source b(big);
        CHECK(b.below(static_cast<std::size_t>(n)) == n - 1);
        CHECK(big.draws() == 3);
    }
}
