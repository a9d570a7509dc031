#include "app/worker/failure_cycle.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using rpcnetd::app::failure_cycle_at;
using rpcnetd::app::failure_phase;
using rpcnetd::cli::failure_cycle_config;
using rpcnetd::common::time_point;

namespace {
const time_point t0 = time_point{} + 100h;

failure_cycle_config enabled(std::chrono::milliseconds healthy = 10s,
                             std::chrono::milliseconds warning = 3s,
                             std::chrono::milliseconds failed = 5s) {
    return {.enabled = true, .healthy = healthy, .warning = warning, .failed = failed};
}
}  // namespace

TEST_CASE("failure_cycle: default schedule 7 s healthy, 3 s warning, 5 s failed", "[app]") {
    const auto c = enabled();
    struct row {
        time_point now;
        failure_phase phase;
        std::uint64_t cycle;
        time_point started;
        time_point next;
        failure_phase next_phase;
    };
    const row rows[] = {
        {t0, failure_phase::healthy, 1, t0, t0 + 7s, failure_phase::warning},
        {t0 + 6999ms, failure_phase::healthy, 1, t0, t0 + 7s, failure_phase::warning},
        {t0 + 7s, failure_phase::warning, 1, t0 + 7s, t0 + 10s, failure_phase::failed},
        {t0 + 9999ms, failure_phase::warning, 1, t0 + 7s, t0 + 10s, failure_phase::failed},
        {t0 + 10s, failure_phase::failed, 1, t0 + 10s, t0 + 15s, failure_phase::healthy},
        {t0 + 14999ms, failure_phase::failed, 1, t0 + 10s, t0 + 15s, failure_phase::healthy},
        {t0 + 15s, failure_phase::healthy, 2, t0 + 15s, t0 + 22s, failure_phase::warning},
        {t0 + 23s, failure_phase::warning, 2, t0 + 22s, t0 + 25s, failure_phase::failed},
        {t0 + 26s, failure_phase::failed, 2, t0 + 25s, t0 + 30s, failure_phase::healthy},
        // cycle 241 starts at 240 * 15 s = 3600 s
        {t0 + 1h + 8s, failure_phase::warning, 241, t0 + 1h + 7s, t0 + 1h + 10s,
         failure_phase::failed},
    };
    for (const auto& r : rows) {
        CAPTURE((r.now - t0).count());
        const auto s = failure_cycle_at(c, t0, r.now);
        CHECK(s.phase == r.phase);
        CHECK(s.cycle == r.cycle);
        CHECK(s.phase_started == r.started);
        CHECK(s.next_transition == r.next);
        CHECK(s.next_phase == r.next_phase);
    }
}

TEST_CASE("failure_cycle: disabled or empty schedules never fail", "[app]") {
    auto off = enabled();
    off.enabled = false;
    for (const auto now : {t0, t0 + 10s, t0 + 12s, t0 + 24h}) {
        const auto s = failure_cycle_at(off, t0, now);
        CHECK(s.phase == failure_phase::healthy);
        CHECK(s.cycle == 0);
        CHECK(s.next_transition == time_point::max());
    }
    const auto empty = enabled(0s, 0s, 0s);
    CHECK(failure_cycle_at(empty, t0, t0 + 1s).phase == failure_phase::healthy);
    CHECK(failure_cycle_at(empty, t0, t0 + 1s).next_transition == time_point::max());
}

TEST_CASE("failure_cycle: before start the worker is healthy", "[app]") {
    const auto s = failure_cycle_at(enabled(), t0, t0 - 1s);
    CHECK(s.phase == failure_phase::healthy);
    CHECK(s.cycle == 0);
    CHECK(s.next_transition == t0);
    CHECK(s.next_phase == failure_phase::healthy);
}

TEST_CASE("failure_cycle: unusual shapes", "[app]") {
    SECTION("no warning: healthy straight to failed") {
        const auto c = enabled(10s, 0s, 5s);
        const auto s = failure_cycle_at(c, t0, t0 + 9s);
        CHECK(s.phase == failure_phase::healthy);
        CHECK(s.next_transition == t0 + 10s);
        CHECK(s.next_phase == failure_phase::failed);
        CHECK(failure_cycle_at(c, t0, t0 + 10s).phase == failure_phase::failed);
    }
    SECTION("a warning longer than healthy is clamped: the whole healthy time warns") {
        const auto c = enabled(2s, 3s, 1s);
        const auto s = failure_cycle_at(c, t0, t0);
        CHECK(s.phase == failure_phase::warning);
        CHECK(s.next_transition == t0 + 2s);
        const auto f = failure_cycle_at(c, t0, t0 + 2500ms);
        CHECK(f.phase == failure_phase::failed);
        CHECK(f.next_transition == t0 + 3s);
        CHECK(f.next_phase == failure_phase::warning);  // next cycle starts warning at once
        CHECK(failure_cycle_at(c, t0, t0 + 3s).cycle == 2);
    }
    SECTION("no failed time: warnings come, failures never") {
        const auto c = enabled(10s, 3s, 0s);
        const auto w = failure_cycle_at(c, t0, t0 + 8s);
        CHECK(w.phase == failure_phase::warning);
        CHECK(w.next_transition == t0 + 10s);
        CHECK(w.next_phase == failure_phase::healthy);
        for (auto at = t0; at < t0 + 60s; at += 250ms) {
            CHECK(failure_cycle_at(c, t0, at).phase != failure_phase::failed);
        }
    }
    SECTION("sub-second schedules for fast tests") {
        const auto c = enabled(300ms, 100ms, 200ms);
        CHECK(failure_cycle_at(c, t0, t0 + 250ms).phase == failure_phase::warning);
        CHECK(failure_cycle_at(c, t0, t0 + 450ms).phase == failure_phase::failed);
        CHECK(failure_cycle_at(c, t0, t0 + 500ms).cycle == 2);
    }
}

TEST_CASE("failure_cycle: following next_transition visits every phase in order", "[app]") {
    const auto c = enabled();
    auto now = t0;
    std::vector<failure_phase> seen;
    for (int i = 0; i < 9; ++i) {
        const auto s = failure_cycle_at(c, t0, now);
        seen.push_back(s.phase);
        CHECK(failure_cycle_at(c, t0, s.next_transition).phase == s.next_phase);
        now = s.next_transition;
    }
    using p = failure_phase;
    CHECK(seen == std::vector<p>{p::healthy, p::warning, p::failed, p::healthy, p::warning,
                                 p::failed, p::healthy, p::warning, p::failed});
    CHECK(now == t0 + 45s);
}
