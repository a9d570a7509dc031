#include "balance/admission_queue.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using rpcnetd::balance::admission_config;
using rpcnetd::balance::admission_queue;
using rpcnetd::common::time_point;

namespace {
const time_point t0 = time_point{} + 1h;
}

TEST_CASE("admission_queue: FIFO places with positions, bounded", "[balance]") {
    admission_queue q(admission_config{.capacity = 3, .timeout = 10s, .rejoin_grace = 2s}, 100);
    const auto a = q.enqueue("client-a", t0);
    const auto b = q.enqueue("client-b", t0);
    const auto c = q.enqueue("client-c", t0);
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(c);
    CHECK(a->id == 100);
    CHECK(a->position == 1);
    CHECK(b->position == 2);
    CHECK(c->position == 3);
    CHECK(q.full());
    CHECK_FALSE(q.enqueue("client-d", t0));  // full: RESOURCE_EXHAUSTED
    CHECK(q.in_order() == std::vector<admission_queue::ticket>{a->id, b->id, c->id});
    // The head leaves: everybody moves up.
    CHECK(q.remove(a->id));
    CHECK_FALSE(q.remove(a->id));
    CHECK(q.position(b->id, "client-b") == 1u);
    CHECK(q.position(c->id, "client-c") == 2u);
    CHECK(q.enqueue("client-d", t0)->position == 3);
}

TEST_CASE("admission_queue: a ticket is bound to the client that took it", "[balance]") {
    admission_queue q(admission_config{.capacity = 2});
    const auto a = q.enqueue("client-a", t0);
    REQUIRE(a);
    CHECK(q.position(a->id, "client-a") == 1u);
    CHECK_FALSE(q.position(a->id, "client-b"));
    CHECK_FALSE(q.position(a->id + 1000, "client-a"));
}

TEST_CASE("admission_queue: places time out, inactive ones must come back in time", "[balance]") {
    admission_queue q(admission_config{.capacity = 4, .timeout = 10s, .rejoin_grace = 2s});
    const auto a = q.enqueue("a", t0);
    const auto b = q.enqueue("b", t0);
    const auto c = q.enqueue("c", t0 + 5s);
    REQUIRE((a && b && c));
    CHECK(q.set_active(a->id, true, t0 + 100ms));
    CHECK(q.set_active(c->id, true, t0 + 5s));
    // b never came back: gone after the grace; a (active) stays.
    CHECK(q.expire(t0 + 1s).empty());
    CHECK(q.expire(t0 + 2s) == std::vector<admission_queue::ticket>{b->id});
    CHECK(q.active(a->id));
    CHECK(q.deadline(a->id) == t0 + 10s);
    // a's deadline passes; c has 5 s more.
    CHECK(q.expire(t0 + 10s) == std::vector<admission_queue::ticket>{a->id});
    CHECK(q.size() == 1);
    // c's call ends (cancelled) and it does not return within the grace.
    CHECK(q.set_active(c->id, false, t0 + 11s));
    CHECK(q.expire(t0 + 12s).empty());
    CHECK(q.expire(t0 + 13s) == std::vector<admission_queue::ticket>{c->id});
    CHECK_FALSE(q.set_active(c->id, true, t0 + 13s));
    CHECK(q.deadline(c->id) == time_point::max());
}

TEST_CASE("admission_queue: retry-after is when the oldest place ends, within 100 ms..max",
          "[balance]") {
    admission_queue q(admission_config{.capacity = 1, .timeout = 10s, .retry_after_max = 5000ms});
    REQUIRE(q.enqueue("a", t0));
    CHECK(q.retry_after(t0) == 5000ms);
    CHECK(q.retry_after(t0 + 8s) == 2000ms);
    CHECK(q.retry_after(t0 + 9950ms) == 100ms);
}

TEST_CASE("admission_queue: capacity 0 disables queueing", "[balance]") {
    admission_queue q(admission_config{.capacity = 0, .timeout = 5s});
    CHECK_FALSE(q.enqueue("a", t0));
    CHECK(q.retry_after(t0) == 1000ms);
}
