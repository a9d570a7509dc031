#include "app/worker/failure_cycle.hpp"

#include <algorithm>

namespace rpcnetd::app {
namespace {

using common::duration;

// One cycle's phase boundaries, as offsets from the cycle's start.
struct cycle_shape {
    duration warn_at;  // healthy - warning
    duration fail_at;  // healthy
    duration period;   // healthy + failed

    // The phase at offset (0 <= offset < period), when it started and when it ends.
    failure_phase phase_at(duration offset, duration& begin, duration& end) const {
        if (offset < warn_at) {
            begin = duration::zero();
            end = warn_at;
            return failure_phase::healthy;
        }
        if (offset < fail_at) {
            begin = warn_at;
            end = fail_at;
            return failure_phase::warning;
        }
        begin = fail_at;
        end = period;
        return failure_phase::failed;
    }

    failure_phase phase_at(duration offset) const {
        duration begin{};
        duration end{};
        return phase_at(offset, begin, end);
    }
};

}  // namespace

std::string_view to_string(failure_phase p) noexcept {
    switch (p) {
    case failure_phase::healthy:
        return "healthy";
    case failure_phase::warning:
        return "warning";
    case failure_phase::failed:
        return "failed";
    }
    return "unknown";
}

failure_cycle_state failure_cycle_at(const cli::failure_cycle_config& config,
                                     common::time_point start, common::time_point now) {
    const duration zero = duration::zero();
    const duration healthy = std::max<duration>(config.healthy, zero);
    const duration failed = std::max<duration>(config.failed, zero);
    const duration warning = std::clamp<duration>(config.warning, zero, healthy);
    const cycle_shape shape{healthy - warning, healthy, healthy + failed};

    failure_cycle_state s;
    s.phase_started = start;
    if (!config.enabled || shape.period == zero) {
        return s;  // always healthy, never a transition
    }
    if (now < start) {
        s.next_transition = start;
        s.next_phase = shape.phase_at(zero);
        return s;
    }

    const duration elapsed = now - start;
    const auto index = elapsed / shape.period;
    const common::time_point cycle_start = start + index * shape.period;
    duration begin{};
    duration end{};
    s.phase = shape.phase_at(elapsed % shape.period, begin, end);
    s.cycle = static_cast<std::uint64_t>(index) + 1;
    s.phase_started = cycle_start + begin;
    s.next_transition = cycle_start + end;
    // A zero-length phase is skipped: the next phase is whatever holds at the transition time.
    s.next_phase = shape.phase_at(end == shape.period ? zero : end);
    return s;
}

}  // namespace rpcnetd::app
