// swim_state merge rules: how alive / suspect / failed / left updates override each other.
// Precedence (SWIM §4.2): a higher incarnation wins; at equal incarnation failed/left > suspect >
// alive. Updates about ourselves are refuted with a higher incarnation unless we are leaving.
#include "membership/swim_state.hpp"

#include <algorithm>
#include <limits>

namespace rpcnetd::membership {

namespace {

bool is_live(member_status s) {
    return s == member_status::alive || s == member_status::suspect;
}

}  // namespace

void swim_state::apply(const wire::message& m, common::time_point now) {
    if (const auto* a = std::get_if<wire::alive_msg>(&m)) {
        apply_alive(*a, now);
    } else if (const auto* s = std::get_if<wire::suspect_msg>(&m)) {
        apply_suspect(*s, now);
    } else if (const auto* f = std::get_if<wire::failed_msg>(&m)) {
        apply_failed(*f, now);
    } else if (const auto* l = std::get_if<wire::left_msg>(&m)) {
        apply_left(*l, now);
    }
}

void swim_state::set_status(entry& e, member_status s, common::time_point now) {
    const bool was_live = is_live(e.m.status);
    const bool now_live = is_live(s);
    if (was_live && !now_live) {
        --live_;
    } else if (!was_live && now_live) {
        ++live_;
    }
    if (!was_live) {
        reap_timers_.erase({e.state_change + config_.reap_after, e.m.name});
    }
    if (e.suspicion_timer) {
        suspicion_timers_.erase({*e.suspicion_timer, e.m.name});
        e.suspicion_timer.reset();
    }
    e.suspicion.reset();
    e.m.status = s;
    e.state_change = now;
    if (!now_live) {
        reap_timers_.insert({now + config_.reap_after, e.m.name});
    }
}

void swim_state::arm_suspicion(entry& e) {
    if (e.suspicion_timer) {
        suspicion_timers_.erase({*e.suspicion_timer, e.m.name});
    }
    e.suspicion_timer = e.suspicion->deadline();
    suspicion_timers_.insert({*e.suspicion_timer, e.m.name});
}

void swim_state::add_member(const wire::alive_msg& m, common::time_point now, bool quiet) {
    // Before real samples exist, expect a message from a member about every N/2 periods (it
    // pings us once per N periods and acks our ping once per N periods), so large clusters do
    // not probe every newly heard member out of turn.
    auto phi = phi_config();
    phi.first_heartbeat_estimate = std::max<common::duration>(
        phi.first_heartbeat_estimate,
        config_.probe_interval * (std::max(live_count() + 1, size_hint_)) / 2);
    entry e{member{m.name, m.addr, m.incarnation, member_status::alive, m.tags},
            now,
            std::nullopt,
            failure::phi_detector(phi),
            std::nullopt,
            false,
            std::nullopt};
    members_.emplace(m.name, std::move(e));
    names_.push_back(m.name);
    addr_index_[m.addr] = m.name;
    ++live_;
    if (quiet) {
        return;  // picked up when the probe list is next rebuilt
    }
    // Insert into the remaining part of this round so the newcomer is probed soon but fairly.
    const std::size_t lo = std::min(probe_index_, probe_order_.size());
    const std::size_t pos = lo + common::random_index(rng_, probe_order_.size() - lo + 1);
    probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(pos), m.name);
    emit(member_event_kind::joined, members_.at(m.name).m);
    broadcast(m, m.name);
}

void swim_state::seed_members(const std::vector<member>& known, common::time_point now) {
    size_hint_ = live_count() + known.size();
    for (const auto& m : known) {
        const wire::alive_msg a{m.name, m.addr, m.incarnation, m.tags};
        if (m.name == self_.name || !wire::well_formed(a)) {
            continue;
        }
        if (lookup(m.name) == nullptr && m.status == member_status::alive) {
            add_member(a, now, true);
        }
    }
    size_hint_ = 0;
}

void swim_state::refute(std::uint64_t heard) {
    // Saturate instead of wrapping: an accusation at 2^64-1 (a corrupt or hostile member) cannot be
    // outbid, and wrapping to 0 would make every later alive of ours lose to older gossip.
    const std::uint64_t top = std::max(self_.incarnation, heard);
    self_.incarnation = top == std::numeric_limits<std::uint64_t>::max() ? top : top + 1;
    ++counters_.refutations;
    // Lifeguard: having to refute means others find us slow; slow down our own accusations.
    awareness_.apply_delta(1);
    broadcast_self_alive();
}

void swim_state::about_self(std::uint64_t heard) {
    if (leaving_) {
        return;
    }
    if (heard >= self_.incarnation) {
        refute(heard);
    } else {
        // Deviation from memberlist: someone still holds an older suspicion (it missed our
        // refutation, which is retransmitted only O(log N) times). Gossip our current alive
        // again, without a new incarnation, so it recovers before its suspicion timer expires.
        broadcast_self_alive();
    }
}

void swim_state::apply_alive(const wire::alive_msg& m, common::time_point now) {
    // The codec already refuses ill-formed members; this keeps every path (push-pull merges,
    // seeds) to the same rule, so nothing we store fails to encode and decode again.
    if (!wire::well_formed(m)) {
        return;
    }
    if (m.name == self_.name) {
        note_self_claim(m);
        const bool differs = m.addr != self_.addr || m.tags != self_.tags;
        if (!leaving_ && (m.incarnation > self_.incarnation ||
                          (m.incarnation == self_.incarnation && differs))) {
            refute(m.incarnation);
        }
        return;
    }
    entry* e = lookup(m.name);
    if (e == nullptr) {
        add_member(m, now);
        return;
    }
    if (refuse_claim(*e, m)) {  // not newer, or another address claiming a live member's name
        return;
    }
    const auto old = e->m.status;
    const bool changed = e->m.addr != m.addr || e->m.tags != m.tags;
    if (old == member_status::suspect && e->suspicion && e->suspicion->from() == self_.name) {
        // Our own accusation was wrong: our probes are losing packets (Lifeguard's local health
        // applied to the accuser too), so probe more slowly until probes succeed again.
        awareness_.apply_delta(1);
    }
    if (e->m.addr != m.addr) {
        addr_index_.erase({e->m.addr.host, e->m.addr.port});
        addr_index_[m.addr] = m.name;
    }
    e->m.addr = m.addr;
    e->m.tags = m.tags;
    e->m.incarnation = m.incarnation;
    if (old != member_status::alive) {
        set_status(*e, member_status::alive, now);
    }
    if (old == member_status::left) {
        emit(member_event_kind::joined, e->m);
    } else if (old != member_status::alive) {
        emit(member_event_kind::recovered, e->m);
    } else if (changed) {
        emit(member_event_kind::updated, e->m);
    }
    broadcast(m, m.name);
}

void swim_state::suspect_member(entry& e, const std::string& from, common::time_point now,
                                std::optional<common::time_point> since) {
    const auto min = failure::suspicion_min_timeout(config_.suspicion_mult, live_count(),
                                                    config_.probe_interval);
    const auto max = min * std::max<std::uint32_t>(1, config_.suspicion_max_mult);
    set_status(e, member_status::suspect, now);
    e.suspicion.emplace(from, expected_confirmations(), min, max, since.value_or(now));
    arm_suspicion(e);
    ++counters_.suspicions;
    emit(member_event_kind::suspect, e.m);
    broadcast(wire::suspect_msg{e.m.name, e.m.incarnation, from}, e.m.name);
}

void swim_state::apply_suspect(const wire::suspect_msg& m, common::time_point now) {
    if (m.name == self_.name) {
        about_self(m.incarnation);
        return;
    }
    entry* e = lookup(m.name);
    if (e == nullptr || m.incarnation < e->m.incarnation || !is_live(e->m.status)) {
        return;
    }
    if (e->m.status == member_status::suspect) {
        // An independent confirmation shrinks the timer; pass it on so others count it too.
        if (e->suspicion && e->suspicion->confirm(m.from)) {
            arm_suspicion(*e);
            broadcast(m, m.name);
        }
        return;
    }
    e->m.incarnation = m.incarnation;
    suspect_member(*e, m.from, now);
}

void swim_state::apply_failed(const wire::failed_msg& m, common::time_point now) {
    if (m.name == self_.name) {
        about_self(m.incarnation);
        return;
    }
    entry* e = lookup(m.name);
    if (e == nullptr || m.incarnation < e->m.incarnation || !is_live(e->m.status)) {
        return;
    }
    e->m.incarnation = m.incarnation;
    set_status(*e, member_status::failed, now);
    emit(member_event_kind::failed, e->m);
    broadcast(m, m.name);
}

void swim_state::apply_left(const wire::left_msg& m, common::time_point now) {
    if (m.name == self_.name) {
        // A previous life of ours left, or someone replays it: we are here, say so.
        about_self(m.incarnation);
        return;
    }
    entry* e = lookup(m.name);
    if (e == nullptr || m.incarnation < e->m.incarnation || e->m.status == member_status::left) {
        return;
    }
    e->m.incarnation = m.incarnation;
    set_status(*e, member_status::left, now);
    emit(member_event_kind::left, e->m);
    broadcast(m, m.name);
}

}  // namespace rpcnetd::membership
