#include "membership/dissemination_queue.hpp"

#include <catch2/catch.hpp>

using rpcnetd::membership::dissemination_queue;

namespace {
std::vector<std::uint8_t> msg(std::uint8_t tag, std::size_t size) {
    return std::vector<std::uint8_t>(size, tag);
}
}  // namespace

TEST_CASE("dissemination_queue: newest first, transmit limit, replacement", "[membership]") {
    dissemination_queue q;
    q.enqueue("a", msg(1, 10));
    q.enqueue("b", msg(2, 10));
    CHECK(q.size() == 2);

    auto first = q.take(100, 2);
    REQUIRE(first.size() == 2);
    CHECK(first[0][0] == 2);  // newest first
    CHECK(q.transmits("a") == 1);

    q.enqueue("c", msg(3, 10));
    auto second = q.take(15, 2);  // only one fits
    REQUIRE(second.size() == 1);
    CHECK(second[0][0] == 3);  // fewest transmissions first

    auto third = q.take(100, 2);
    CHECK(third.size() == 3);
    CHECK(q.empty());  // all reached the limit of 2

    SECTION("an update about the same member replaces the old one") {
        q.enqueue("c", msg(5, 10));
        q.enqueue("c", msg(4, 10));
        CHECK(q.size() == 1);
        CHECK(q.transmits("c") == 0);
        auto t = q.take(100, 5);
        REQUIRE(t.size() == 1);
        CHECK(t[0][0] == 4);
    }
}

TEST_CASE("dissemination_queue: refutations go first and big items do not block", "[membership]") {
    dissemination_queue q;
    q.enqueue("big", msg(1, 50));
    q.enqueue("x", msg(2, 10));
    q.enqueue("self", msg(3, 10), true);
    q.enqueue("y", msg(4, 10));
    auto t = q.take(25, 10);
    REQUIRE(t.size() == 2);
    CHECK(t[0][0] == 3);
    CHECK(t[1][0] == 4);
    CHECK(q.take(5, 10).empty());
    CHECK(q.take(100, 10, 1).size() == 1);
    q.clear();
    CHECK(q.empty());
}
