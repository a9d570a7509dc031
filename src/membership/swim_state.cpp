// swim_state: construction, public API, push-pull and helpers. Merge rules live in
// swim_state_merge.cpp, probing and timers in swim_state_probe.cpp.
#include "membership/swim_state.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace rpcnetd::membership {

namespace {

common::duration random_below(common::rng& rng, common::duration d) {
    if (d.count() <= 0) {
        return common::duration{0};
    }
    const auto n = static_cast<std::size_t>(d.count());
    return common::duration{static_cast<common::duration::rep>(common::random_index(rng, n))};
}

}  // namespace

swim_state::swim_state(const swim_config& config, std::string name, common::endpoint addr,
                       tag_map tags, common::rng& rng, common::time_point now,
                       std::uint32_t generation)
    : config_(config),
      rng_(rng), self_{std::move(name), std::move(addr), make_incarnation(generation, 0),
                       member_status::alive, std::move(tags)},
      max_payload_(config.max_datagram > config.envelope_reserve + 64
                       ? config.max_datagram - config.envelope_reserve
                       : 64),
      awareness_(config.awareness_max) {
    // Stagger the first probe and gossip so members started together do not move in lockstep.
    next_probe_ = now + random_below(rng_, config_.probe_interval);
    next_gossip_ = now + random_below(rng_, config_.gossip_interval);
    next_push_pull_ = now + config_.push_pull_interval;
    next_reconnect_ = now + config_.reconnect_interval;
    next_phi_probe_ = now;
}

failure::phi_config swim_state::phi_config() const {
    failure::phi_config c;
    c.threshold = config_.phi_threshold;
    c.max_sample_size = std::max<std::uint32_t>(2, config_.phi_max_samples);
    c.min_std_deviation = config_.phi_min_std_deviation;
    c.acceptable_heartbeat_pause = config_.phi_acceptable_pause;
    c.first_heartbeat_estimate = config_.phi_first_heartbeat;
    return c;
}

std::uint32_t swim_state::retransmit_limit() const {
    const double n = static_cast<double>(live_count());
    const auto scale = static_cast<std::uint32_t>(std::ceil(std::log10(n + 1.0)));
    return std::max<std::uint32_t>(1, config_.retransmit_mult * std::max<std::uint32_t>(1, scale));
}

std::uint32_t swim_state::expected_confirmations() const {
    // memberlist ties K to suspicion_mult (K = mult - 2); here it is its own setting, so that a
    // shorter minimum (issue #10) keeps the confirmations a false suspicion rarely gets. None
    // expected when too few members could confirm.
    const std::uint32_t k = config_.suspicion_confirmations;
    const std::size_t n = live_count();
    return n < k + 2 ? 0 : k;
}

common::duration swim_state::tick_resolution() const {
    const auto finest =
        std::min({config_.probe_timeout, config_.gossip_interval, config_.probe_interval});
    return std::max<common::duration>(common::milliseconds{1}, finest / 5);
}

swim_state::entry* swim_state::lookup(const std::string& name) {
    auto it = members_.find(name);
    return it == members_.end() ? nullptr : &it->second;
}

std::vector<outbound> swim_state::join(std::vector<common::endpoint> seeds,
                                       common::time_point /*now*/) {
    out_vec out;
    seeds_.clear();
    for (auto& s : seeds) {
        if (s == self_.addr) {
            continue;
        }
        seeds_.push_back(s);
        outbound o{s, {}, outbound::kind::push_pull, true};
        out.push_back(std::move(o));
        ++counters_.push_pulls;
    }
    return out;
}

std::vector<outbound> swim_state::set_tags(tag_map tags, common::time_point now) {
    self_.tags = std::move(tags);
    if (self_.incarnation != std::numeric_limits<std::uint64_t>::max()) {
        self_.incarnation += 1;  // saturates, as refute() does
    }
    broadcast_self_alive();
    (void)now;
    out_vec out;
    gossip_now(out);
    return out;
}

std::vector<outbound> swim_state::leave(common::time_point now) {
    out_vec out;
    if (leaving_) {
        return out;
    }
    leaving_ = true;
    self_.status = member_status::left;
    broadcast(wire::left_msg{self_.name, self_.incarnation}, self_.name, true);
    for (auto& [seq, p] : probes_) {
        if (entry* e = lookup(p.target)) {
            e->probing = false;
        }
    }
    probes_.clear();
    (void)now;
    gossip_now(out);
    return out;
}

std::vector<outbound> swim_state::probe_now(const std::string& name, common::time_point now) {
    out_vec out;
    entry* e = lookup(name);
    if (leaving_ || e == nullptr || e->probing || e->m.status == member_status::failed ||
        e->m.status == member_status::left) {
        return out;
    }
    ++counters_.requested_probes;
    start_probe(*e, now, out);
    return out;
}

std::vector<member_event> swim_state::drain_events() {
    return std::exchange(events_, {});
}

std::vector<common::duration> swim_state::drain_probe_rtts() {
    return std::exchange(probe_rtts_, {});
}

std::vector<member> swim_state::members() const {
    std::vector<member> out;
    out.reserve(members_.size() + 1);
    out.push_back(self_);
    for (const auto& name : names_) {
        out.push_back(members_.at(name).m);
    }
    return out;
}

std::optional<member> swim_state::find(const std::string& name) const {
    if (name == self_.name) {
        return self_;
    }
    auto it = members_.find(name);
    if (it == members_.end()) {
        return std::nullopt;
    }
    return it->second.m;
}

std::vector<member> swim_state::local_state() const {
    return members();
}

void swim_state::merge_remote_state(const std::vector<member>& remote, common::time_point now) {
    size_hint_ = std::max(live_count(), remote.size());
    std::uint32_t added = 0;
    for (const auto& m : remote) {
        // Names we would gossip on must encode and decode again (the codec's rule; alive
        // members get the full wire::well_formed check in apply_alive).
        if (m.name.empty() || !wire::well_formed_text(m.name)) {
            continue;
        }
        if (m.name != self_.name && lookup(m.name) == nullptr) {
            if (added >= config_.max_push_pull_members) {
                ++counters_.push_pull_members_dropped;
                continue;
            }
            ++added;
        }
        switch (m.status) {
        case member_status::alive:
            apply_alive(wire::alive_msg{m.name, m.addr, m.incarnation, m.tags}, now);
            break;
        case member_status::suspect:
        case member_status::failed:
            // A peer's "failed" becomes our suspicion: its subject may be alive and refute.
            apply_suspect(wire::suspect_msg{m.name, m.incarnation, self_.name}, now);
            break;
        case member_status::left:
            apply_left(wire::left_msg{m.name, m.incarnation}, now);
            break;
        }
    }
    size_hint_ = 0;
}

common::time_point swim_state::next_deadline() const {
    // A gossip round with nothing queued sends nothing: an idle member need not wake for it (the
    // shell re-arms when news arrives). This keeps a short --gossip-interval free when idle.
    auto t = std::min(next_push_pull_, next_reconnect_);
    if (!queue_.empty()) {
        t = std::min(t, next_gossip_);
    }
    if (!leaving_) {
        t = std::min(t, next_probe_);
    }
    for (const auto& [seq, p] : probes_) {
        t = std::min(t, p.indirect_sent ? p.end : p.ack_deadline);
    }
    for (const auto& [seq, r] : relays_) {
        t = std::min(t, r.deadline);
    }
    if (!suspicion_timers_.empty()) {
        t = std::min(t, suspicion_timers_.begin()->first);
    }
    if (!phi_checks_.empty()) {
        t = std::min(t, phi_checks_.top().first);
    }
    if (!reap_timers_.empty()) {
        t = std::min(t, reap_timers_.begin()->first);
    }
    return t;
}

void swim_state::emit(member_event_kind kind, const member& m) {
    events_.push_back(member_event{kind, m, {}, false});
}

void swim_state::broadcast(const wire::message& m, const std::string& about, bool priority) {
    queue_.enqueue(about, wire::encode_message(m), priority);
}

void swim_state::broadcast_self_alive() {
    broadcast(wire::alive_msg{self_.name, self_.addr, self_.incarnation, self_.tags}, self_.name,
              true);
}

std::vector<std::string> swim_state::random_members(std::size_t k, const std::string& exclude,
                                                    bool alive_only) {
    std::vector<std::string> out;
    if (names_.empty() || k == 0) {
        return out;
    }
    auto eligible = [&](const std::string& name) {
        const auto s = members_.at(name).m.status;
        return name != exclude &&
               (s == member_status::alive || (!alive_only && s == member_status::suspect));
    };
    if (names_.size() <= 64) {
        for (const auto& name : names_) {
            if (eligible(name)) {
                out.push_back(name);
            }
        }
        common::random_shuffle(out.begin(), out.end(), rng_);
        out.resize(std::min(out.size(), k));
        return out;
    }
    // Rejection sampling keeps this O(k) for large clusters; bounded tries, so a cluster of mostly
    // dead members yields fewer than k.
    const auto pick = [this](common::rng& g) { return common::random_index(g, names_.size()); };
    const std::size_t tries = 3 * k + 3 * std::min<std::size_t>(names_.size(), 32);
    for (std::size_t i = 0; i < tries && out.size() < k; ++i) {
        const auto& name = names_[pick(rng_)];
        if (eligible(name) && std::find(out.begin(), out.end(), name) == out.end()) {
            out.push_back(name);
        }
    }
    return out;
}

}  // namespace rpcnetd::membership
