#include "failure/phi_detector.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace rpcnetd::failure {

namespace {

double to_ms(common::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

} // namespace

double phi_of(double time_diff_ms, double mean_ms, double std_deviation_ms) {
    const double y = (time_diff_ms - mean_ms) / std_deviation_ms;
    const double e = std::exp(-y * (1.5976 + 0.070566 * y * y));
    if (time_diff_ms > mean_ms) {
        return -std::log10(e / (1.0 + e));
    }
    return -std::log10(1.0 - 1.0 / (1.0 + e));
}

phi_detector::phi_detector(const phi_config& config)
    : config_(config), history_(config.max_sample_size) {
    // Seed with two samples around the estimate so the first real interval is judged against
    // something sensible (Akka's firstHeartbeat).
    const double estimate = to_ms(config_.first_heartbeat_estimate);
    const double deviation = estimate / 4.0;
    history_.add(estimate - deviation);
    history_.add(estimate + deviation);
}

void phi_detector::heartbeat(common::time_point now) {
    if (last_ && now < *last_) {
        return;
    }
    if (last_) {
        history_.add(to_ms(now - *last_));
    }
    last_ = now;
}

double phi_detector::mean_ms() const {
    return history_.mean() + to_ms(config_.acceptable_heartbeat_pause);
}

double phi_detector::std_deviation_ms() const {
    return std::max(history_.std_deviation(), std::max(1e-3, to_ms(config_.min_std_deviation)));
}

double phi_detector::phi(common::time_point now) const {
    if (!last_) {
        return 0.0;
    }
    const double diff = to_ms(now - *last_);
    return phi_of(std::max(0.0, diff), mean_ms(), std_deviation_ms());
}

bool phi_detector::is_available(common::time_point now) const {
    return phi(now) < config_.threshold;
}

std::optional<common::time_point> phi_detector::unavailable_at() const {
    if (!last_) {
        return std::nullopt;
    }
    // phi is monotone in the elapsed time; bisect for the crossing point (in ms after last_).
    const double mean = mean_ms();
    const double sd = std_deviation_ms();
    double lo = 0.0;
    double hi = mean + 64.0 * sd;
    if (phi_of(lo, mean, sd) >= config_.threshold) {
        return last_;
    }
    for (int i = 0; i < 40; ++i) {
        const double mid = (lo + hi) / 2.0;
        if (phi_of(mid, mean, sd) >= config_.threshold) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    // Round up so phi(result) >= threshold holds exactly.
    const auto offset =
        std::chrono::ceil<common::duration>(std::chrono::duration<double, std::milli>(hi)) +
        common::duration{1};
    return *last_ + offset;
}

} // namespace rpcnetd::failure
