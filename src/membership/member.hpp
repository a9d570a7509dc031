#pragma once
// Membership vocabulary: what a member is, the states it passes through, and the events the SWIM
// core reports to the application.
#include "common/endpoint.hpp"
#include "common/tags.hpp"
#include "common/time.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace rpcnetd::membership {

using common::tag_map;

// Wire values (MemberState.state in rpcnetd.proto and the gossip codec): keep them stable.
enum class member_status : std::uint8_t { alive = 0, suspect = 1, failed = 2, left = 3 };

inline std::string_view to_string(member_status s) {
    switch (s) {
    case member_status::alive:
        return "alive";
    case member_status::suspect:
        return "suspect";
    case member_status::failed:
        return "failed";
    case member_status::left:
        return "left";
    }
    return "unknown";
}

// Incarnation = (generation << 32) | counter. The shell passes a generation that grows across
// restarts (unix seconds at start), so a restarted node's first incarnation beats every
// incarnation its previous life gossiped; the counter grows with refutations and tag changes.
inline std::uint64_t make_incarnation(std::uint32_t generation, std::uint32_t counter) {
    return (static_cast<std::uint64_t>(generation) << 32) | counter;
}

// A snapshot of one member. Also the element of push-pull state exchange.
struct member {
    std::string name;
    common::endpoint addr;  // gossip UDP and RPC TCP share host:port
    std::uint64_t incarnation = 0;
    member_status status = member_status::alive;
    tag_map tags;

    friend bool operator==(const member&, const member&) = default;
};

enum class member_event_kind : std::uint8_t {
    joined,
    updated,
    suspect,
    failed,
    left,
    recovered,
    conflict,
};

inline std::string_view to_string(member_event_kind k) {
    switch (k) {
    case member_event_kind::joined:
        return "joined";
    case member_event_kind::updated:
        return "updated";
    case member_event_kind::suspect:
        return "suspect";
    case member_event_kind::failed:
        return "failed";
    case member_event_kind::left:
        return "left";
    case member_event_kind::recovered:
        return "recovered";
    case member_event_kind::conflict:
        return "conflict";
    }
    return "unknown";
}

// joined: first heard of (or back after leaving); updated: tags or address changed;
// suspect: suspicion raised; failed: suspicion expired; left: graceful leave;
// recovered: a suspect or failed member proved alive with a higher incarnation;
// conflict: a second address claims a name held by a live member (name_claim.hpp): snapshot is
// the member as held (ourselves when the name is ours), `claimant` the other address.
struct member_event {
    member_event_kind kind = member_event_kind::joined;
    member snapshot;
    common::endpoint claimant;  // conflict only
    // conflict about our own name, learned from a seed while joining: we are the newcomer, and
    // the shell refuses to run on when the holder still answers at its address.
    bool newcomer = false;
};

}  // namespace rpcnetd::membership
