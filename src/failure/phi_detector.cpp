#include "failure/phi_detector.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace rpcnetd::failure {

namespace {

double to_ms(common::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

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
    const double mean = mean_ms();
    const double sd = std_deviation_ms();
    const double threshold = config_.threshold;
    double t_ms = 0.0;
    if (threshold > std::log10(2.0)) {
        // Past the mean, phi = -log10(e / (1 + e)) with e = exp(-y (b + a y^2)), so phi = T
        // solves a y^3 + b y - c = 0 with c = ln((1 - P) / P), P = 10^-T: a cubic with one
        // real root (Cardano). This runs for every datagram, so no bisection.
        constexpr double a = 0.070566;
        constexpr double b = 1.5976;
        const double p_late = std::pow(10.0, -threshold);
        const double c = std::log((1.0 - p_late) / p_late);
        const double p = b / a;
        const double q = -c / a;
        const double disc = std::sqrt(q * q / 4.0 + p * p * p / 27.0);
        const double y = std::cbrt(-q / 2.0 + disc) + std::cbrt(-q / 2.0 - disc);
        t_ms = std::max(0.0, mean + y * sd);
    } else {
        // Thresholds at or below phi(mean) are crossed before the mean; bisect there.
        double lo = 0.0;
        double hi = mean;
        for (int i = 0; i < 50; ++i) {
            const double mid = (lo + hi) / 2.0;
            (phi_of(mid, mean, sd) >= threshold ? hi : lo) = mid;
        }
        t_ms = hi;
    }
    // Guard against rounding so that phi(result) >= threshold holds exactly.
    for (int i = 0; i < 64 && phi_of(t_ms, mean, sd) < threshold; ++i) {
        t_ms += 1e-3 * (i + 1);
    }
    const auto offset =
        std::chrono::ceil<common::duration>(std::chrono::duration<double, std::milli>(t_ms)) +
        common::duration{1};
    return *last_ + offset;
}

}  // namespace rpcnetd::failure
