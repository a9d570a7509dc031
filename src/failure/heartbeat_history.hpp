#pragma once
// Bounded window of inter-arrival intervals with running mean and variance, the sample store of
// failure::phi_detector (Akka's HeartbeatHistory). Pure: no clock, no allocation after the
// window fills.
#include <cstddef>
#include <vector>

namespace rpcnetd::failure {

class heartbeat_history {
public:
    // max_sample_size: number of most recent intervals kept (>= 1). A longer window is steadier
    // but adapts more slowly when a member's traffic pattern changes.
    explicit heartbeat_history(std::size_t max_sample_size);

    // Adds one interval in milliseconds; evicts the oldest when the window is full.
    void add(double interval_ms);

    std::size_t size() const { return ring_.size(); }
    double mean() const;      // 0 when empty
    double variance() const;  // population variance; 0 when empty
    double std_deviation() const;

private:
    std::size_t max_sample_size_;
    // Ring buffer grown on demand: thousands of members each hold one, most with few samples.
    std::vector<double> ring_;
    std::size_t oldest_ = 0;
    double sum_ = 0.0;
    double squared_sum_ = 0.0;
};

}  // namespace rpcnetd::failure
