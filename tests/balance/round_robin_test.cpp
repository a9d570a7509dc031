#include "balance/round_robin.hpp"

#include "balance/scripted_rng.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <map>
#include <string>
#include <vector>

using rpcnetd::balance::backend;
using rpcnetd::balance::random_source;
using rpcnetd::balance::round_robin;
using rpcnetd::test::scripted_rng;

namespace {
std::string_view pick_name(round_robin& rr, std::span<const backend> b) {
    scripted_rng none({});  // round robin must never draw
    random_source s(none);
    return b[*rr.pick(b, s)].name;
}
}  // namespace

TEST_CASE("round_robin: cycles in name order whatever the candidate order", "[balance]") {
    round_robin rr;
    const std::array<backend, 3> b{{{"w-c", 0}, {"w-a", 9}, {"w-b", 3}}};
    std::vector<std::string_view> seen;
    for (int i = 0; i < 7; ++i) {
        seen.push_back(pick_name(rr, b));
    }
    CHECK(seen == std::vector<std::string_view>{"w-a", "w-b", "w-c", "w-a", "w-b", "w-c", "w-a"});
}

TEST_CASE("round_robin: stays fair when the candidate list changes", "[balance]") {
    round_robin rr;
    const std::array<backend, 3> all{{{"a", 0}, {"b", 0}, {"c", 0}}};
    CHECK(pick_name(rr, all) == "a");
    SECTION("the next name is excluded: skip to the one after") {
        const std::array<backend, 2> without_b{{{"a", 0}, {"c", 0}}};
        CHECK(pick_name(rr, without_b) == "c");
        CHECK(pick_name(rr, all) == "a");
    }
    SECTION("a new member joins between picks") {
        const std::array<backend, 4> with_ab{{{"a", 0}, {"ab", 0}, {"b", 0}, {"c", 0}}};
        CHECK(pick_name(rr, with_ab) == "ab");
        CHECK(pick_name(rr, with_ab) == "b");
    }
    SECTION("the last picked member disappeared") {
        CHECK(pick_name(rr, all) == "b");
        const std::array<backend, 2> ac{{{"a", 0}, {"c", 0}}};
        CHECK(pick_name(rr, ac) == "c");
        CHECK(pick_name(rr, ac) == "a");
    }
    SECTION("a single candidate is always picked") {
        const std::array<backend, 1> one{{{"a", 0}}};
        CHECK(pick_name(rr, one) == "a");
        CHECK(pick_name(rr, one) == "a");
    }
}

TEST_CASE("round_robin: exactly even over many picks", "[balance]") {
    round_robin rr;
    std::vector<std::string> names;
    std::vector<backend> b;
    for (int i = 0; i < 30; ++i) {
        names.push_back("worker-" + std::to_string(i));
    }
    for (const auto& n : names) {
        b.push_back({n, 0});
    }
    std::map<std::string_view, int> count;
    for (int i = 0; i < 30 * 100; ++i) {
        ++count[pick_name(rr, b)];
    }
    REQUIRE(count.size() == 30);
    for (const auto& [name, c] : count) {
        CHECK(c == 100);
    }
}
