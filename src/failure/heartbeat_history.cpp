#include "failure/heartbeat_history.hpp"

#include <algorithm>
#include <cmath>

namespace rpcnetd::failure {

heartbeat_history::heartbeat_history(std::size_t max_sample_size)
    : max_sample_size_(std::max<std::size_t>(1, max_sample_size)) {}

void heartbeat_history::add(double interval_ms) {
    if (ring_.size() < max_sample_size_) {
        ring_.push_back(interval_ms);
    } else {
        const double oldest = ring_[oldest_];
        sum_ -= oldest;
        squared_sum_ -= oldest * oldest;
        ring_[oldest_] = interval_ms;
        oldest_ = (oldest_ + 1) % ring_.size();
    }
    sum_ += interval_ms;
    squared_sum_ += interval_ms * interval_ms;
}

double heartbeat_history::mean() const {
    return ring_.empty() ? 0.0 : sum_ / static_cast<double>(ring_.size());
}

double heartbeat_history::variance() const {
    if (ring_.empty()) {
        return 0.0;
    }
    const double m = mean();
    // Running sums can drift slightly below zero through cancellation; clamp.
    return std::max(0.0, squared_sum_ / static_cast<double>(ring_.size()) - m * m);
}

double heartbeat_history::std_deviation() const {
    return std::sqrt(variance());
}

}  // namespace rpcnetd::failure
