#pragma once
// The simulated-failure schedule of a worker (DESIGN.md §3 "Simulated failure",
// `worker --simulate-failures`), as a pure function of the configuration, the time the schedule
// started and the current time. The worker shell asks it what phase it is in and sleeps until the
// next transition; tests ask it with literal time points.
//
// One cycle, repeated forever from `start`:
//
//   |<------------------- healthy ------------------->|<----- failed ----->|
//   |<--- phase healthy --->|<--- phase warning ----->|<-- phase failed -->|
//   start                   start+healthy-warning     start+healthy        start+healthy+failed
//
// - healthy: the time from (re)covery to failing, warning included (default 10 s).
// - warning: the last part of healthy in which the worker announces the coming failure (3 s). A
//   warning longer than healthy is clamped (the whole healthy time is then warning).
// - failed: how long the worker behaves like a hung process (5 s).
// A disabled config, or one whose healthy + failed is zero, is always healthy.
#include "cli/options.hpp"
#include "common/time.hpp"

#include <cstdint>
#include <string_view>

namespace rpcnetd::app {

enum class failure_phase { healthy, warning, failed };

std::string_view to_string(failure_phase p) noexcept;

struct failure_cycle_state {
    failure_phase phase = failure_phase::healthy;
    // Cycle number, 1 for the first cycle after start (0 when disabled or before start).
    std::uint64_t cycle = 0;
    common::time_point phase_started{};
    // When the phase changes next, and to what; time_point::max() when it never does.
    common::time_point next_transition = common::time_point::max();
    failure_phase next_phase = failure_phase::healthy;
};

// The schedule's state at `now`. Pure; never throws. Before `start` the worker is healthy and the
// next transition is the first one of cycle 1.
failure_cycle_state failure_cycle_at(const cli::failure_cycle_config& config,
                                     common::time_point start, common::time_point now);

}  // namespace rpcnetd::app
