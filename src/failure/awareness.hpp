#pragma once
// Lifeguard local health multiplier (LHM; memberlist awareness.go). A member that misses acks it
// should have got, fails to collect nacks from intermediaries, or has to refute suspicions about
// itself is probably the slow one (CPU starvation, full socket buffers); it then stretches its own
// probe interval and timeout by (score + 1) so it stops accusing healthy peers.
// score is in [0, max - 1]; each successful probe lowers it by one.
#include "common/time.hpp"

#include <algorithm>
#include <cstdint>

namespace rpcnetd::failure {

class awareness {
public:
    explicit awareness(std::uint32_t max) : max_(std::max<std::uint32_t>(1, max)) {}

    void apply_delta(int delta) {
        const long next = static_cast<long>(score_) + delta;
        score_ = static_cast<std::uint32_t>(std::clamp<long>(next, 0, max_ - 1));
    }

    std::uint32_t score() const { return score_; }

    common::duration scale(common::duration d) const { return d * (score_ + 1); }

private:
    std::uint32_t max_;
    std::uint32_t score_ = 0;
};

}  // namespace rpcnetd::failure
