#include "failure/suspicion.hpp"

#include <algorithm>
#include <cmath>

namespace rpcnetd::failure {

common::duration suspicion_min_timeout(std::uint32_t suspicion_mult, std::size_t cluster_size,
                                       common::duration probe_interval) {
    const double scale =
        std::max(1.0, std::log10(static_cast<double>(std::max<std::size_t>(1, cluster_size))));
    const auto computed = std::chrono::duration_cast<common::duration>(
        probe_interval * (static_cast<double>(suspicion_mult) * scale));
    return std::max(computed, probe_interval * 4);
}

common::duration suspicion_timeout(common::duration min, common::duration max,
                                   std::uint32_t confirmations, std::uint32_t expected) {
    if (expected == 0 || max <= min) {
        return min;
    }
    const double frac = std::log(static_cast<double>(confirmations) + 1.0) /
                        std::log(static_cast<double>(expected) + 1.0);
    const auto shrink =
        std::chrono::duration_cast<common::duration>((max - min) * std::min(1.0, frac));
    return std::max(min, max - shrink);
}

suspicion::suspicion(std::string from, std::uint32_t expected, common::duration min,
                     common::duration max, common::time_point start)
    : from_(std::move(from)), expected_(expected), min_(min), max_(max), start_(start) {}

bool suspicion::confirm(const std::string& from) {
    if (from == from_ || confirmers_.size() >= expected_) {
        return false;
    }
    return confirmers_.insert(from).second;
}

common::duration suspicion::timeout() const {
    return suspicion_timeout(min_, max_, confirmations(), expected_);
}

}  // namespace rpcnetd::failure
