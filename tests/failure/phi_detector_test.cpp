#include "failure/phi_detector.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;
using rpcnetd::common::time_point;
using rpcnetd::failure::phi_config;
using rpcnetd::failure::phi_detector;
using rpcnetd::failure::phi_of;

namespace {
const time_point t0 = time_point{} + 1000s;

phi_config config_1s() {
    phi_config c;
    c.threshold = 8.0;
    c.max_sample_size = 100;
    c.min_std_deviation = 100ms;
    c.acceptable_heartbeat_pause = 0ms;
    c.first_heartbeat_estimate = 1000ms;
    return c;
}
}  // namespace

TEST_CASE("phi_detector: logistic approximation values", "[failure]") {
    CHECK(phi_of(1000, 1000, 100) == Approx(0.30103).epsilon(1e-4));  // at the mean: P = 1/2
    CHECK(phi_of(0, 1000, 100) == Approx(0.0).margin(1e-6));
    CHECK(phi_of(1100, 1000, 100) == Approx(0.7995).epsilon(1e-3));  // one sigma late
    CHECK(phi_of(1300, 1000, 100) == Approx(2.9095).epsilon(1e-3));  // three sigma late
    CHECK(phi_of(1500, 1000, 100) > 5.0);
}

TEST_CASE("phi_detector: nothing known before the first heartbeat", "[failure]") {
    phi_detector d(config_1s());
    CHECK(d.phi(t0 + 60s) == 0.0);
    CHECK(d.is_available(t0 + 60s));
    CHECK_FALSE(d.unavailable_at());
}

TEST_CASE("phi_detector: phi grows while heartbeats stop", "[failure]") {
    phi_detector d(config_1s());
    // Regular heartbeats every second: t0, t0+1s, ..., t0+10s.
    for (int i = 0; i <= 10; ++i) {
        d.heartbeat(t0 + std::chrono::seconds{i});
    }
    const time_point last = t0 + 10s;
    // Samples: seeded 750 and 1250, plus ten 1000 ms intervals.
    CHECK(d.history().size() == 12);
    CHECK(d.history().mean() == Approx(1000.0));
    const double sd = d.history().std_deviation();
    CHECK(sd == Approx(102.0621).epsilon(1e-4));

    CHECK(d.phi(last) == Approx(0.0).margin(1e-6));
    CHECK(d.phi(last + 1000ms) == Approx(0.30103).epsilon(1e-4));
    CHECK(d.phi(last + 1200ms) == Approx(phi_of(1200, 1000, sd)));
    CHECK(d.is_available(last + 1200ms));

    SECTION("monotone in elapsed time") {
        double prev = 0.0;
        for (auto t = 0ms; t <= 3000ms; t += 50ms) {
            const double p = d.phi(last + t);
            CHECK(p >= prev);
            prev = p;
        }
    }
    SECTION("unavailable after a long silence") {
        CHECK(d.phi(last + 3000ms) > 8.0);
        CHECK_FALSE(d.is_available(last + 3000ms));
    }
    SECTION("unavailable_at is where phi crosses the threshold") {
        const auto at = d.unavailable_at();
        REQUIRE(at);
        CHECK(*at > last + 1000ms);
        CHECK(*at < last + 3000ms);
        CHECK(d.phi(*at) >= 8.0);
        CHECK(d.phi(*at - 5ms) < 8.0);
    }
    SECTION("unavailable_at for other thresholds, including ones below phi(mean)") {
        for (double threshold : {0.1, 0.5, 1.0, 3.0, 12.0, 16.0}) {
            auto c = config_1s();
            c.threshold = threshold;
            phi_detector e(c);
            for (int i = 0; i <= 10; ++i) {
                e.heartbeat(t0 + std::chrono::seconds{i});
            }
            const auto at = e.unavailable_at();
            REQUIRE(at);
            CHECK(e.phi(*at) >= threshold);
            CHECK(e.phi(*at - 1ms) < threshold);
        }
    }
    SECTION("a new heartbeat resets phi") {
        d.heartbeat(last + 1500ms);
        CHECK(d.phi(last + 1500ms) == Approx(0.0).margin(1e-6));
    }
    SECTION("earlier time points are ignored") {
        d.heartbeat(last - 5s);
        CHECK(d.history().size() == 12);
    }
}

TEST_CASE("phi_detector: acceptable pause and minimum deviation", "[failure]") {
    SECTION("acceptable pause shifts the curve by the pause") {
        auto c = config_1s();
        c.acceptable_heartbeat_pause = 500ms;
        phi_detector paused(c);
        phi_detector plain(config_1s());
        for (int i = 0; i <= 5; ++i) {
            paused.heartbeat(t0 + std::chrono::seconds{i});
            plain.heartbeat(t0 + std::chrono::seconds{i});
        }
        const time_point last = t0 + 5s;
        CHECK(paused.phi(last + 1500ms) == Approx(plain.phi(last + 1000ms)));
    }
    SECTION("very regular heartbeats use the std deviation floor") {
        auto c = config_1s();
        c.max_sample_size = 4;  // the seeded samples are evicted
        c.min_std_deviation = 200ms;
        phi_detector d(c);
        for (int i = 0; i <= 10; ++i) {
            d.heartbeat(t0 + std::chrono::seconds{i});
        }
        CHECK(d.history().std_deviation() == Approx(0.0).margin(1e-6));
        CHECK(d.phi(t0 + 11200ms) == Approx(phi_of(1200, 1000, 200)));
    }
}
