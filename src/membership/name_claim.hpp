#pragma once
// Two members with one name (issue #14). Names are the members' identity: a second process
// started with a name already in use (a copied command line, a typo) must not silently take it
// from a live member, yet a member restarted at a new address after its old process died must
// still get its name back, as before. serf/memberlist call this a name conflict ("Conflicting
// address"); here the rule is:
//  - an alive message naming a member we hold as *alive* at another address is a conflict: it is
//    not applied (the holder keeps the name), it is reported once per claimant address, and the
//    shell probes the holder out of turn, so a dead holder turns suspect quickly. Its incarnation
//    need not be higher: a process started in the same second as the holder has the same
//    generation and a smaller counter. Only an older generation is stale news (ignored);
//  - the same claim about a suspect, failed or left holder takes the name over (a restart);
//  - a claim on our own name from another address is reported too; when it comes from a seed's
//    state during our join we are the newcomer, and the shell asks the holder's address whether it
//    still runs under that name before going on (it exits 1 if so).
// Pure: no clock, no sockets, no logging.
#include "common/endpoint.hpp"
#include "membership/member.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>

namespace rpcnetd::membership {

enum class claim_verdict : std::uint8_t {
    ignore,    // old news (not a higher incarnation, no conflict): nothing changes
    apply,     // the usual merge: same address, or a take-over from a holder not alive
    conflict,  // another address claims the name of a live holder: keep the holder, report
};

// An alive message (name, addr, incarnation) about `holder`, a member other than ourselves.
claim_verdict judge_claim(const member& holder, const common::endpoint& claim_addr,
                          std::uint64_t claim_incarnation);

// Whether an alive message about our own name, from another address, is reported as a conflict:
// always while merging a seed's state at join (we are the newcomer, even when the holder's
// incarnation is older than ours), otherwise when it is not older than our incarnation (older
// ones are stale gossip about a previous life of ours).
bool self_claim_conflicts(const member& self, const common::endpoint& claim_addr,
                          std::uint64_t claim_incarnation, bool joining);

// Remembers which (name, claimant address) conflicts were reported, so a claim retransmitted by
// gossip is reported once. Bounded: past `limit` entries it starts over (a report may repeat).
class claim_log {
public:
    explicit claim_log(std::size_t limit = 256) : limit_(limit) {}
    // True the first time this claimant is seen for this name.
    bool first_report(const std::string& name, const common::endpoint& claimant);
    // The name changed hands or its holder went away: report later claims again.
    void forget(const std::string& name);
    std::size_t size() const { return seen_.size(); }

private:
    std::size_t limit_;
    std::set<std::pair<std::string, std::string>> seen_;  // (name, claimant host:port)
};

}  // namespace rpcnetd::membership
