// swim_state: two members claiming one name (issue #14). The rules are name_claim.hpp's; this
// file applies them to the state and reports conflicts as member_event_kind::conflict.
#include "membership/swim_state.hpp"

namespace rpcnetd::membership {

void swim_state::merge_join_state(const std::vector<member>& remote, common::time_point now) {
    joining_merge_ = true;
    merge_remote_state(remote, now);
    joining_merge_ = false;
}

bool swim_state::refuse_claim(const entry& e, const wire::alive_msg& m) {
    switch (judge_claim(e.m, m.addr, m.incarnation)) {
    case claim_verdict::conflict:
        if (claims_.first_report(m.name, m.addr)) {
            events_.push_back(member_event{member_event_kind::conflict, e.m, m.addr, false});
        }
        return true;
    case claim_verdict::apply:
        if (m.addr != e.m.addr) {
            claims_.forget(m.name);  // taken over: a later claim is news again
        }
        return false;
    case claim_verdict::ignore:
        break;
    }
    return true;  // old news
}

void swim_state::note_self_claim(const wire::alive_msg& m) {
    if (leaving_ || !self_claim_conflicts(self_, m.addr, m.incarnation, joining_merge_)) {
        return;
    }
    // A join happens once, so its report is never deduplicated: the shell must see it.
    if (claims_.first_report(m.name, m.addr) || joining_merge_) {
        events_.push_back(member_event{member_event_kind::conflict, self_, m.addr, joining_merge_});
    }
}

}  // namespace rpcnetd::membership
