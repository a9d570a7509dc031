#pragma once
// Keeps short-lived suspicions out of the operators' event stream (issue #15).
//
// Under packet loss a live member is now and then suspected and refutes within a few hundred
// milliseconds; each such episode used to print a NodeSuspect and a NodeRecovered line on every
// member that heard of it (1,599 lines a minute at N=10 with 10 % loss). The damper holds a
// suspect event back for `hold` (the shell passes one probe interval): if the member recovers
// meanwhile, both events are dropped; if it is still suspect when the hold ends, or anything
// else happens to it (failed, left, ...), the suspect event is delivered first, in order.
// Membership state itself is untouched: `members` still shows the member as suspect at once.
// Pure: no clock, no I/O; the caller passes `now`.
#include "common/time.hpp"
#include "membership/member.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rpcnetd::membership {

class event_damper {
public:
    explicit event_damper(common::duration hold) : hold_(hold) {}

    // The core's events, in order; returns those to deliver now.
    std::vector<member_event> offer(std::vector<member_event> events, common::time_point now);
    // Suspect events held for `hold` by now, oldest first.
    std::vector<member_event> due(common::time_point now);
    // When the next held event falls due (nullopt: none held).
    std::optional<common::time_point> next_due() const;

    std::size_t held() const { return held_.size(); }
    // Suspect/recovered pairs dropped because the suspicion ended within the hold.
    std::uint64_t dropped() const { return dropped_; }

private:
    struct held_event {
        common::time_point due;
        std::uint64_t order;
        member_event event;
    };
    void release(const std::string& name, std::vector<member_event>& out);

    common::duration hold_;
    std::map<std::string, held_event> held_;
    std::uint64_t next_order_ = 0;
    std::uint64_t dropped_ = 0;
};

}  // namespace rpcnetd::membership
