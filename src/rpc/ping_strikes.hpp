#pragma once
// Ping-abuse policy of one connection (pure: the caller passes the receive time).
//
// A PING that arrives sooner than `min_interval` after the previous PING is a strike; once
// `max_strikes` strikes have accumulated the peer is flooding and the connection should be closed
// (GOAWAY "too many pings"). Honest peers ping only when idle, keepalive_interval (10 s by
// default) apart, so they never collect a strike; a flood of back-to-back PINGs collects one per
// frame. Strikes never decay: a peer that keeps probing the bound is eventually closed, like
// gRPC's "too_many_pings" policy (which counts pings without data in between).
#include "common/time.hpp"

#include <cstdint>

namespace rpcnetd::rpc {

class ping_strikes {
public:
    ping_strikes(common::duration min_interval, std::uint32_t max_strikes)
        : min_interval_(min_interval), max_strikes_(max_strikes) {}

    // Records a PING received at `now`; true when the peer has now used up its strikes.
    // max_strikes == 0 disables the policy.
    bool on_ping(common::time_point now) noexcept {
        if (seen_ && now - last_ < min_interval_) {
            ++strikes_;
        }
        seen_ = true;
        last_ = now;
        return max_strikes_ != 0 && strikes_ >= max_strikes_;
    }

    std::uint32_t strikes() const noexcept { return strikes_; }

private:
    common::duration min_interval_;
    std::uint32_t max_strikes_;
    std::uint32_t strikes_ = 0;
    bool seen_ = false;
    common::time_point last_{};
};

}  // namespace rpcnetd::rpc
