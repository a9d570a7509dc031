#include "failure/heartbeat_history.hpp"

#include <catch2/catch.hpp>

using rpcnetd::failure::heartbeat_history;

TEST_CASE("heartbeat_history: running mean and variance", "[failure]") {
    heartbeat_history h(3);
    CHECK(h.size() == 0);
    CHECK(h.mean() == 0.0);
    CHECK(h.variance() == 0.0);

    h.add(100);
    h.add(200);
    h.add(300);
    CHECK(h.size() == 3);
    CHECK(h.mean() == Approx(200.0));
    CHECK(h.variance() == Approx(20000.0 / 3.0));
    CHECK(h.std_deviation() == Approx(81.6497).epsilon(1e-4));

    SECTION("the window evicts the oldest sample") {
        h.add(400);
        CHECK(h.size() == 3);
        CHECK(h.mean() == Approx(300.0));
        h.add(400);
        h.add(400);
        CHECK(h.mean() == Approx(400.0));
        CHECK(h.std_deviation() == Approx(0.0).margin(1e-6));
    }
}

TEST_CASE("heartbeat_history: window of at least one", "[failure]") {
    heartbeat_history h(0);
    h.add(5);
    h.add(7);
    CHECK(h.size() == 1);
    CHECK(h.mean() == Approx(7.0));
}
