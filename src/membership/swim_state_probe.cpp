// swim_state: datagram handling, the probe loop, indirect probes, phi-triggered probes, gossip,
// push-pull scheduling and reaping.
#include "membership/swim_state.hpp"

#include <algorithm>
#include <cmath>

namespace rpcnetd::membership {

namespace {

bool is_live(member_status s) {
    return s == member_status::alive || s == member_status::suspect;
}

}  // namespace

std::vector<outbound> swim_state::on_datagram(const common::endpoint& from,
                                              std::span<const std::uint8_t> datagram,
                                              common::time_point now) {
    ++counters_.datagrams_received;
    counters_.bytes_received += datagram.size();
    out_vec out;
    auto decoded = wire::decode_packet(datagram);
    if (!decoded) {
        ++counters_.datagrams_rejected;
        return out;
    }
    if (decoded->sender == self_.name) {
        ++counters_.misdirected;
        return out;
    }
    heard_from(decoded->sender, now);
    handling_bytes_ = datagram.size();
    handling_at_ = now;
    handling_sender_ = decoded->sender;
    for (const auto& m : decoded->messages) {
        handle(from, m, now, out);
    }
    handling_bytes_ = 0;
    handling_sender_.clear();
    return out;
}

std::uint32_t swim_state::draw_seq() {
    // Non-zero and not in flight (probes and relays share the number space of our acks).
    for (;;) {
        const auto seq = static_cast<std::uint32_t>(rng_() >> 32);
        if (seq != 0 && !probes_.contains(seq) && !relays_.contains(seq)) {
            return seq;
        }
    }
}

void swim_state::heard_from(const std::string& sender, common::time_point now) {
    entry* e = lookup(sender);
    if (e == nullptr) {
        return;
    }
    e->phi.heartbeat(now);
    if (auto at = e->phi.unavailable_at()) {
        e->phi_check = *at;
        phi_checks_.emplace(*at, sender);
    }
}

void swim_state::handle(const common::endpoint& from, const wire::message& m,
                        common::time_point now, out_vec& out) {
    if (const auto* ping = std::get_if<wire::ping_msg>(&m)) {
        if (ping->target != self_.name) {
            ++counters_.misdirected;
            return;
        }
        send(out, from, {wire::encode_message(wire::ack_msg{ping->seq})});
    } else if (const auto* req = std::get_if<wire::ping_req_msg>(&m)) {
        // Strict relaying (issue #5): ping only a live member we know, at the address we hold
        // for it, never an address a datagram names, so a ping-req cannot aim our traffic at a
        // third party. Otherwise nack at once: the requester learns we cannot help.
        const entry* target = lookup(req->target);
        if (target == nullptr || !is_live(target->m.status) ||
            !(target->m.addr == req->target_addr)) {
            ++counters_.misdirected;
            send(out, from, {wire::encode_message(wire::nack_msg{req->seq})});
            return;
        }
        const auto seq = draw_seq();
        // Nack before the requester's period ends, so it can tell "target silent" from "we are
        // cut off" (Lifeguard).
        relays_[seq] = relay{from, req->seq, now + config_.probe_timeout * 3 / 4, req->target};
        send(out, target->m.addr, {wire::encode_message(wire::ping_msg{seq, req->target})});
    } else if (const auto* ack = std::get_if<wire::ack_msg>(&m)) {
        if (auto p = probes_.find(ack->seq);
            p != probes_.end() && (handling_sender_ == p->second.target ||
                                   std::find(p->second.relays.begin(), p->second.relays.end(),
                                             handling_sender_) != p->second.relays.end())) {
            finish_probe(ack->seq, true, now, out);
        } else if (auto it = relays_.find(ack->seq);
                   it != relays_.end() && it->second.target == handling_sender_) {
            const relay r = it->second;
            relays_.erase(it);
            send(out, r.origin, {wire::encode_message(wire::ack_msg{r.origin_seq})});
        } else {
            ++counters_.misdirected;  // late ack after the probe ended
        }
    } else if (const auto* nack = std::get_if<wire::nack_msg>(&m)) {
        if (auto it = probes_.find(nack->seq);
            it != probes_.end() && std::find(it->second.relays.begin(), it->second.relays.end(),
                                             handling_sender_) != it->second.relays.end()) {
            ++it->second.nacks;
            ++counters_.nacks_received;
        }
    } else {
        apply(m, now);
    }
}

bool swim_state::may_reply_to_unknown(const common::endpoint& to, std::size_t bytes,
                                      common::time_point now) {
    if (bytes > handling_bytes_) {
        return false;  // larger than what the (possibly spoofed) source sent, or unsolicited
    }
    const double rate = config_.unknown_reply_rate;
    auto it = reply_buckets_.find(to);
    if (it == reply_buckets_.end()) {
        if (reply_buckets_.size() >= config_.unknown_reply_sources) {
            // Forget buckets that have refilled completely: they carry no state.
            std::erase_if(reply_buckets_, [&](const auto& kv) {
                return rate <= 0 ||
                       std::chrono::duration<double>(now - kv.second.at).count() * rate +
                               kv.second.tokens >=
                           rate;
            });
            if (reply_buckets_.size() >= config_.unknown_reply_sources) {
                return false;
            }
        }
        it = reply_buckets_.emplace(to, reply_bucket{rate, now}).first;
    }
    auto& b = it->second;
    b.tokens = std::min(rate, b.tokens + std::chrono::duration<double>(now - b.at).count() * rate);
    b.at = now;
    if (b.tokens < 1.0) {
        return false;
    }
    b.tokens -= 1.0;
    return true;
}

void swim_state::send(out_vec& out, const common::endpoint& to,
                      std::vector<std::vector<std::uint8_t>> head) {
    const auto known = addr_index_.find(to);
    if (!config_.authenticated && known == addr_index_.end()) {
        // Unauthenticated and not a member: exactly the reply, no piggyback, never larger than
        // the datagram that caused it, and rate-limited (swim_config::authenticated).
        if (head.empty()) {
            return;
        }
        auto payload = wire::encode_packet(self_.name, head);
        if (!may_reply_to_unknown(to, payload.size(), handling_at_)) {
            ++counters_.replies_limited;
            return;
        }
        ++counters_.datagrams_sent;
        counters_.bytes_sent += payload.size();
        out.push_back(outbound{to, std::move(payload), outbound::kind::datagram, false});
        return;
    }
    // Lifeguard's buddy system, extended to every datagram: whatever we send to a member we
    // suspect carries the suspicion, so a live suspect that missed it refutes at once. Likewise a
    // member we hold failed that talks to us (a hung process resuming) hears it in our answer.
    if (const auto idx = known; idx != addr_index_.end()) {
        if (entry* e = lookup(idx->second); e != nullptr) {
            if (e->m.status == member_status::suspect) {
                head.push_back(wire::encode_message(
                    wire::suspect_msg{e->m.name, e->m.incarnation, self_.name}));
            } else if (e->m.status == member_status::failed) {
                head.push_back(wire::encode_message(
                    wire::failed_msg{e->m.name, e->m.incarnation, self_.name}));
            }
        }
    }
    std::size_t used = wire::header_size(self_.name);
    for (const auto& h : head) {
        used += h.size();
    }
    if (used < max_payload_ && head.size() < 255) {
        auto piggy = queue_.take(max_payload_ - used, retransmit_limit(), 255 - head.size());
        for (auto& p : piggy) {
            head.push_back(std::move(p));
        }
    }
    if (head.empty()) {
        return;
    }
    auto payload = wire::encode_packet(self_.name, head);
    ++counters_.datagrams_sent;
    counters_.bytes_sent += payload.size();
    out.push_back(outbound{to, std::move(payload), outbound::kind::datagram, false});
}

std::vector<outbound> swim_state::on_tick(common::time_point now) {
    out_vec out;
    run_relays(now, out);
    run_probes(now, out);
    run_suspicions(now, out);
    run_phi_checks(now, out);
    if (!leaving_ && now >= next_probe_) {
        round_robin_probe(now, out);
        next_probe_ += awareness_.scale(config_.probe_interval);
        if (next_probe_ <= now) {
            next_probe_ = now + awareness_.scale(config_.probe_interval);
        }
    }
    run_gossip(now, out);
    run_push_pull(now, out);
    run_reconnect(now, out);
    reap(now);
    return out;
}

std::uint32_t swim_state::start_probe(entry& e, common::time_point now, out_vec& out,
                                      std::optional<common::time_point> first_failure) {
    const auto seq = draw_seq();
    probes_[seq] = probe{e.m.name,
                         e.m.addr,
                         now + awareness_.scale(config_.probe_timeout),
                         now + awareness_.scale(config_.probe_interval),
                         false,
                         0,
                         0,
                         now,
                         {},
                         std::nullopt,
                         std::nullopt};
    e.probing = true;
    ++counters_.probes;
    send(out, e.m.addr, {wire::encode_message(wire::ping_msg{seq, e.m.name})});
    if (first_failure) {
        // A second chance asks the relays at once, beside the direct ping, and lasts one probe
        // timeout instead of a whole period: relays nack within 3/4 of it, and the accusation
        // it may lead to is delayed as little as possible. Twice the relays: each independent
        // path cuts the chance that loss alone fails this probe too (at 25 % loss 0.14 -> 0.04).
        auto& p = probes_.at(seq);
        p.end = p.ack_deadline;
        p.first_failure = first_failure;
        send_ping_reqs(seq, p, out, 2 * config_.indirect_probes);
    }
    return seq;
}

void swim_state::send_ping_reqs(std::uint32_t seq, probe& p, out_vec& out, std::size_t relays) {
    p.indirect_sent = true;
    for (const auto& name : random_members(relays, p.target, true)) {
        send(out, members_.at(name).m.addr,
             {wire::encode_message(wire::ping_req_msg{seq, p.target, p.addr})});
        p.relays.push_back(name);
        ++p.expected_nacks;
        ++counters_.indirect_probes;
    }
}

void swim_state::round_robin_probe(common::time_point now, out_vec& out) {
    const std::size_t bound = 2 * names_.size() + 2;
    for (std::size_t i = 0; i < bound; ++i) {
        if (probe_index_ >= probe_order_.size()) {
            probe_order_.clear();
            for (const auto& name : names_) {
                if (is_live(members_.at(name).m.status)) {
                    probe_order_.push_back(name);
                }
            }
            common::random_shuffle(probe_order_.begin(), probe_order_.end(), rng_);
            probe_index_ = 0;
            if (probe_order_.empty()) {
                return;
            }
        }
        entry* e = lookup(probe_order_[probe_index_++]);
        if (e != nullptr && is_live(e->m.status) && !e->probing) {
            start_probe(*e, now, out);
            return;
        }
    }
}

void swim_state::run_probes(common::time_point now, out_vec& out) {
    std::vector<std::uint32_t> ended;
    for (auto& [seq, p] : probes_) {
        if (now >= p.end) {
            ended.push_back(seq);
            continue;
        }
        if (p.indirect_sent || now < p.ack_deadline) {
            continue;
        }
        send_ping_reqs(seq, p, out, config_.indirect_probes);
    }
    for (auto seq : ended) {
        finish_probe(seq, false, now, out);
    }
}

void swim_state::finish_probe(std::uint32_t seq, bool acked, common::time_point now, out_vec& out) {
    auto it = probes_.find(seq);
    if (it == probes_.end()) {
        return;
    }
    const probe p = std::move(it->second);
    probes_.erase(it);
    const auto first_failure = p.first_failure;   // set: this was a second chance
    const auto final_check = p.final_looks_left;  // set: a look before declaring
    entry* e = lookup(p.target);
    if (e != nullptr) {
        e->probing = false;
    }
    if (acked) {
        awareness_.apply_delta(-1);
        if (probe_rtts_.size() < max_probe_rtts) {
            probe_rtts_.push_back(now - p.started);
        }
        if (final_check && e != nullptr && e->m.status == member_status::suspect &&
            !e->suspicion_timer) {
            // Alive after all: its refutation is on its way; look again a period from now.
            e->suspicion_timer = now + awareness_.scale(config_.probe_interval);
            suspicion_timers_.insert({*e->suspicion_timer, e->m.name});
        }
        return;
    }
    ++counters_.probe_failures;
    // Lifeguard: missing nacks mean our own path is bad, not (only) the target's.
    if (p.expected_nacks > 0) {
        awareness_.apply_delta(
            static_cast<int>(p.expected_nacks - std::min(p.nacks, p.expected_nacks)));
    } else {
        awareness_.apply_delta(1);
    }
    if (e == nullptr || leaving_ || !is_live(e->m.status)) {
        return;
    }
    if (final_check) {
        if (e->m.status == member_status::suspect && !e->suspicion_timer) {
            if (*final_check > 0) {
                probes_.at(start_probe(*e, now, out, now)).final_looks_left = *final_check - 1;
            } else {
                declare_failed(*e, now);
            }
        }
        return;
    }
    if (!first_failure) {
        // Second chance (docs/gossip-storm.md): under random loss one failed probe says little,
        // and an accusation costs a cluster-wide suspicion and refutation; a confirmation
        // shortens the suspect's time to refute. Probe again at once; accuse or confirm only if
        // that fails too, an accusation's timer running from this first failure.
        ++counters_.second_chances;
        start_probe(*e, now, out, now);
        return;
    }
    if (e->m.status == member_status::alive) {
        suspect_member(*e, self_.name, now, first_failure);
        // Tell the suspect at once (send() adds the suspicion to whatever goes to a suspect):
        // alive, it refutes before the suspicion has spread far, rather than when gossip
        // happens to reach it.
        send(out, e->m.addr, {});
    } else if (e->suspicion && e->suspicion->confirm(self_.name)) {
        arm_suspicion(*e);
        broadcast(wire::suspect_msg{e->m.name, e->m.incarnation, self_.name}, e->m.name);
    }
}

void swim_state::run_relays(common::time_point now, out_vec& out) {
    for (auto it = relays_.begin(); it != relays_.end();) {
        if (now < it->second.deadline) {
            ++it;
            continue;
        }
        send(out, it->second.origin, {wire::encode_message(wire::nack_msg{it->second.origin_seq})});
        it = relays_.erase(it);
    }
}

// Look before declaring (docs/gossip-storm.md): under heavy loss a suspicion can expire at a
// member before the suspect's refutation has reached it, though the suspect is alive. An expired
// timer therefore starts one last probe (direct ping plus twice the relays, one probe timeout
// long); only its failure declares the suspect failed. An ack proves the suspect alive: the
// suspicion stays (only the suspect can refute it) and the timer runs one more probe period.
void swim_state::run_suspicions(common::time_point now, out_vec& out) {
    constexpr unsigned final_looks = 2;
    while (!suspicion_timers_.empty() && suspicion_timers_.begin()->first <= now) {
        const std::string name = suspicion_timers_.begin()->second;
        entry& e = members_.at(name);
        suspicion_timers_.erase(suspicion_timers_.begin());
        e.suspicion_timer.reset();
        if (leaving_) {
            declare_failed(e, now);
            continue;
        }
        if (e.probing) {
            // A probe of the suspect is in flight: it is the first look.
            for (auto& [seq, p] : probes_) {
                if (p.target == name && !p.final_looks_left) {
                    p.final_looks_left = final_looks - 1;
                }
            }
            continue;
        }
        probes_.at(start_probe(e, now, out, now)).final_looks_left = final_looks - 1;
    }
}

void swim_state::declare_failed(entry& e, common::time_point now) {
    set_status(e, member_status::failed, now);  // disarms the timer
    ++counters_.failures_declared;
    emit(member_event_kind::failed, e.m);
    broadcast(wire::failed_msg{e.m.name, e.m.incarnation, self_.name}, e.m.name);
}

void swim_state::run_phi_checks(common::time_point now, out_vec& out) {
    while (!phi_checks_.empty() && phi_checks_.top().first <= now) {
        const auto [at, name] = phi_checks_.top();
        phi_checks_.pop();
        entry* e = lookup(name);
        if (e == nullptr || e->phi_check != at) {
            continue;  // superseded by a later heartbeat
        }
        if (leaving_ || !is_live(e->m.status) || e->probing) {
            e->phi_check.reset();
            continue;
        }
        if (now < next_phi_probe_) {
            // Budget of one out-of-turn probe per period: bounded extra traffic when many
            // members go quiet at once (our own pause, a partition).
            e->phi_check = next_phi_probe_;
            phi_checks_.emplace(next_phi_probe_, name);
            continue;
        }
        e->phi_check.reset();
        next_phi_probe_ = now + awareness_.scale(config_.probe_interval);
        ++counters_.phi_probes;
        start_probe(*e, now, out);
    }
}

void swim_state::run_gossip(common::time_point now, out_vec& out) {
    if (now < next_gossip_) {
        return;
    }
    gossip_now(out);
    next_gossip_ += config_.gossip_interval;
    if (next_gossip_ <= now) {
        next_gossip_ = now + config_.gossip_interval;
    }
}

void swim_state::gossip_now(out_vec& out) {
    if (queue_.empty()) {
        return;
    }
    for (const auto& name : random_members(config_.gossip_fanout, {}, false)) {
        if (queue_.empty()) {
            break;
        }
        send(out, members_.at(name).m.addr, {});
    }
}

void swim_state::run_push_pull(common::time_point now, out_vec& out) {
    if (now < next_push_pull_) {
        return;
    }
    // memberlist's pushPullScale: beyond 32 members stretch the interval by log2(N / 32) + 1,
    // so total push-pull traffic stays bounded.
    const double n = static_cast<double>(live_count());
    const double scale = n <= 32 ? 1.0 : std::ceil(std::log2(n) - std::log2(32.0)) + 1.0;
    next_push_pull_ =
        now + std::chrono::duration_cast<common::duration>(config_.push_pull_interval * scale);
    if (leaving_) {
        return;
    }
    const auto peers = random_members(1, {}, true);
    if (!peers.empty()) {
        out.push_back(
            outbound{members_.at(peers.front()).m.addr, {}, outbound::kind::push_pull, false});
        ++counters_.push_pulls;
    }
}

void swim_state::run_reconnect(common::time_point now, out_vec& out) {
    if (now < next_reconnect_) {
        return;
    }
    next_reconnect_ = now + config_.reconnect_interval;
    if (leaving_) {
        return;
    }
    std::vector<common::endpoint> failed;
    for (const auto& [at, name] : reap_timers_) {
        const auto& e = members_.at(name);
        if (e.m.status == member_status::failed) {
            failed.push_back(e.m.addr);
        }
    }
    std::vector<common::endpoint> seeds;
    for (const auto& s : seeds_) {
        const bool live = std::any_of(members_.begin(), members_.end(), [&](const auto& kv) {
            return kv.second.m.addr == s && is_live(kv.second.m.status);
        });
        if (!live) {
            seeds.push_back(s);
        }
    }
    for (auto* list : {&failed, &seeds}) {
        if (list->empty()) {
            continue;
        }
        const std::size_t pick = common::random_index(rng_, list->size());
        out.push_back(outbound{(*list)[pick], {}, outbound::kind::push_pull, false});
        ++counters_.push_pulls;
    }
}

void swim_state::reap(common::time_point now) {
    while (!reap_timers_.empty() && reap_timers_.begin()->first <= now) {
        const std::string name = reap_timers_.begin()->second;
        reap_timers_.erase(reap_timers_.begin());
        const auto& a = members_.at(name).m.addr;
        if (auto it = addr_index_.find(a); it != addr_index_.end() && it->second == name) {
            addr_index_.erase(it);
        }
        members_.erase(name);
        if (auto it = std::find(names_.begin(), names_.end(), name); it != names_.end()) {
            *it = std::move(names_.back());
            names_.pop_back();
        }
    }
}

}  // namespace rpcnetd::membership
