#pragma once
// Bounded window of inter-arrival intervals with running mean and variance, the sample store of
// failure::phi_detector (Akka's HeartbeatHistory). Pure: no clock, no allocation after the
// window fills.
#include <cstddef>
#include <deque>

namespace rpcnetd::failure {

class heartbeat_history {
public:
    // max_sample_size: number of most recent intervals kept (>= 1). A longer window is steadier
    // but adapts more slowly when a member's traffic pattern changes.
    explicit heartbeat_history(std::size_t max_sample_size);

    // Adds one interval in milliseconds; evicts the oldest when the window is full.
    void add(double interval_ms);

    std::size_t size() const { return intervals_.size(); }
    double mean() const;      // 0 when empty
    double variance() const;  // population variance; 0 when empty
    double std_deviation() const;

private:
    std::size_t max_sample_size_;
    std::deque<double> intervals_;
    double sum_ = 0.0;
    double squared_sum_ = 0.0;
};

} // namespace rpcnetd::failure
