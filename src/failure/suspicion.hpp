#pragma once
// Lifeguard suspicion timer (Dadgar, Phillips, Currey: "Lifeguard: Local Health Awareness for More
// Accurate Failure Detection", DSN-W 2018, https://arxiv.org/abs/1707.00788), the pure timer maths
// of hashicorp/memberlist suspicion.go.
//
// A suspected member gets a timeout that starts at `max` and shrinks towards `min` as independent
// members confirm the suspicion (each confirmer counted once):
//
//     timeout(C) = max(min, max - (max - min) * log(C + 1) / log(K + 1))
//
// C = confirmations so far, K = confirmations expected. With few expected confirmers (tiny
// clusters) the timer starts at `min` directly. A long start gives a slow but healthy suspect time
// to refute; many confirmations mean the suspicion is not the product of one sick observer.
#include "common/time.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

namespace rpcnetd::failure {

// Lifeguard minimum: suspicion_mult * max(1, log10(N)) * probe_interval, never below 4 probe
// periods (DESIGN.md §6) so a suspect always gets several chances to hear of and refute it.
common::duration suspicion_min_timeout(std::uint32_t suspicion_mult, std::size_t cluster_size,
                                       common::duration probe_interval);

// The formula above. expected == 0 yields min.
common::duration suspicion_timeout(common::duration min, common::duration max,
                                   std::uint32_t confirmations, std::uint32_t expected);

class suspicion {
public:
    // from: the member whose suspicion started the timer; it never counts as a confirmation.
    // expected: K; min/max as above; start: when the suspicion was first heard.
    suspicion(std::string from, std::uint32_t expected, common::duration min, common::duration max,
              common::time_point start);

    // Records an independent confirmation. Returns true if it was new (the caller then
    // re-gossips the suspicion so others can count it too); false for repeats, the original
    // suspector, or once K confirmations are in.
    bool confirm(const std::string& from);

    const std::string& from() const { return from_; }
    std::uint32_t confirmations() const { return static_cast<std::uint32_t>(confirmers_.size()); }
    common::duration timeout() const;
    common::time_point deadline() const { return start_ + timeout(); }
    common::time_point start() const { return start_; }

private:
    std::string from_;
    std::uint32_t expected_;
    common::duration min_;
    common::duration max_;
    common::time_point start_;
    std::set<std::string> confirmers_;
};

}  // namespace rpcnetd::failure
