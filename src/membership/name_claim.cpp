#include "membership/name_claim.hpp"

namespace rpcnetd::membership {

namespace {

// The restart generation of an incarnation (member.hpp: make_incarnation).
std::uint32_t generation_of(std::uint64_t incarnation) {
    return static_cast<std::uint32_t>(incarnation >> 32);
}

}  // namespace

claim_verdict judge_claim(const member& holder, const common::endpoint& claim_addr,
                          std::uint64_t claim_incarnation) {
    const bool newer = claim_incarnation > holder.incarnation;
    if (claim_addr != holder.addr && holder.status == member_status::alive) {
        // An older incarnation from the same generation is a second process started in the same
        // second as the holder (its counter has not caught up): a conflict too. One from an
        // older generation is stale gossip about a previous life of the holder.
        if (newer || generation_of(claim_incarnation) >= generation_of(holder.incarnation)) {
            return claim_verdict::conflict;
        }
    }
    return newer ? claim_verdict::apply : claim_verdict::ignore;
}

bool self_claim_conflicts(const member& self, const common::endpoint& claim_addr,
                          std::uint64_t claim_incarnation, bool joining) {
    if (claim_addr == self.addr) {
        return false;
    }
    return joining || claim_incarnation >= self.incarnation;
}

bool claim_log::first_report(const std::string& name, const common::endpoint& claimant) {
    if (seen_.size() >= limit_) {
        seen_.clear();
    }
    return seen_.emplace(name, claimant.to_string()).second;
}

void claim_log::forget(const std::string& name) {
    auto it = seen_.lower_bound({name, std::string{}});
    while (it != seen_.end() && it->first == name) {
        it = seen_.erase(it);
    }
}

}  // namespace rpcnetd::membership
