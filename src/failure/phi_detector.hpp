#pragma once
// Phi accrual failure detector.
//
// Hayashibara, Défago, Yared, Katayama: "The phi accrual failure detector", SRDS 2004
// (https://doi.org/10.1109/RELDIS.2004.1353004); shaped after Akka's PhiAccrualFailureDetector.
// Instead of a boolean it outputs a suspicion level phi = -log10(P(a heartbeat arrives later than
// now)), estimated from the distribution (normal, mean and std deviation of recent inter-arrival
// times) of the intervals between heartbeats. phi = 1 means a ~10 % chance of being wrong when
// declaring the member unavailable, phi = 2 ~1 %, phi = 8 ~1e-8 %. As in Akka the normal CDF is
// replaced by a logistic approximation, which is monotone and cheap.
//
// In rpcnetd a "heartbeat" is the arrival of any authenticated gossip datagram from the member
// (pings, acks, gossip); crossing the threshold does not declare anything failed, it only makes
// swim_state probe the member out of turn. Pure: the caller passes time points.
#include "common/time.hpp"
#include "failure/heartbeat_history.hpp"

#include <cstddef>
#include <optional>

namespace rpcnetd::failure {

struct phi_config {
    // phi at or above which the member is considered unavailable. Low values react faster but
    // err more often; 8 is Akka's and Cassandra's default.
    double threshold = 8.0;
    // Number of recent intervals kept. Larger = smoother estimate, slower to adapt.
    std::size_t max_sample_size = 200;
    // Floor on the standard deviation, so that very regular traffic (tiny deviation) does not
    // make phi explode on the first small delay. Too low = false alarms on jitter.
    common::duration min_std_deviation = common::milliseconds{100};
    // Pause added to the mean: a margin for GC pauses or lost datagrams before phi grows.
    // Larger = fewer false alarms, slower detection.
    common::duration acceptable_heartbeat_pause = common::milliseconds{0};
    // Expected interval used before real samples exist (the history is seeded with it, std
    // deviation = estimate/4, as Akka does). Too low = false alarms right after a join.
    common::duration first_heartbeat_estimate = common::milliseconds{1000};
};

class phi_detector {
public:
    explicit phi_detector(const phi_config& config);

    // Records a heartbeat arriving at `now`. Out-of-order (earlier) time points are ignored.
    void heartbeat(common::time_point now);

    // Suspicion level at `now`; 0 before the first heartbeat.
    double phi(common::time_point now) const;

    // phi(now) < threshold (true before the first heartbeat: nothing is known yet).
    bool is_available(common::time_point now) const;

    // The time at which phi reaches the threshold if no further heartbeat arrives; nullopt before
    // the first heartbeat. Lets callers schedule a check instead of polling phi.
    std::optional<common::time_point> unavailable_at() const;

    const heartbeat_history& history() const { return history_; }
    const phi_config& config() const { return config_; }

private:
    double mean_ms() const;
    double std_deviation_ms() const;

    phi_config config_;
    heartbeat_history history_;
    std::optional<common::time_point> last_;
};

// phi for a time difference, mean and std deviation (all in ms), Akka's logistic approximation.
double phi_of(double time_diff_ms, double mean_ms, double std_deviation_ms);

}  // namespace rpcnetd::failure
