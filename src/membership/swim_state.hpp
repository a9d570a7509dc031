#pragma once
// SWIM membership with Lifeguard, as a pure state machine (no sockets, no clock, no logging).
//
// Das, Gupta, Motivala: "SWIM: Scalable Weakly-consistent Infection-style Process Group
// Membership Protocol", DSN 2002; Dadgar et al.: "Lifeguard", 2018
// (https://arxiv.org/abs/1707.00788); shaped after hashicorp/memberlist (state.go) and tarantool
// src/lib/swim (logic apart from wire and transport).
//
// Mechanics, per protocol period (probe_interval, stretched by the local health multiplier):
//  - probe one member from a shuffled round-robin list with a ping; no ack within probe_timeout
//    -> ping-req through indirect_probes members, which nack if they hear nothing (Lifeguard);
//    no ack by the end of the period -> probe it once more at once (a second chance: direct
//    ping and ping-reqs through 2 * indirect_probes members together), and only
//    when that fails too -> suspect (or confirm an existing suspicion). The suspicion timer
//    starts at the first failure, so a dead member is declared no later than before; a live one
//    behind a lossy network is accused (and gossiped about cluster-wide) far less often: the
//    false-suspicion rate is squared (docs/gossip-storm.md).
//  - a suspect refutes by gossiping alive with a higher incarnation; otherwise its Lifeguard
//    suspicion timer (failure/suspicion.hpp), shrinking with independent confirmations, expires
//    and it is declared failed; failed and left members are reaped after reap_after.
//  - membership updates ride piggybacked on every datagram and on gossip to gossip_fanout
//    members every gossip_interval, each retransmitted retransmit_mult * ceil(log10(N + 1))
//    times (memberlist's choice of log10), refutations and newest first.
//  - one phi accrual detector per member, fed by every datagram from it; when phi crosses
//    phi_threshold the member is probed at once, out of turn (counters().phi_probes).
//  - push-pull full-state exchange at join, every push_pull_interval, and (reconnect_interval)
//    with a failed member or an unreachable seed, so healed partitions re-merge. The core only
//    asks for it (outbound::kind::push_pull); the shell runs it and calls merge_remote_state.
// Deviation from memberlist: a ping to a member held as suspect carries the suspicion about it,
// so a live suspect refutes in its very ack instead of waiting for gossip to reach it.
//
// Thread-safety: none; the shell calls it from one strand. Never throws on network input.
#include "common/endpoint.hpp"
#include "common/random.hpp"
#include "common/time.hpp"
#include "failure/awareness.hpp"
#include "failure/phi_detector.hpp"
#include "failure/suspicion.hpp"
#include "membership/dissemination_queue.hpp"
#include "membership/member.hpp"
#include "membership/name_claim.hpp"
#include "membership/swim_codec.hpp"
#include "membership/swim_config.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace rpcnetd::membership {

struct outbound {
    enum class kind : std::uint8_t {
        datagram,   // send payload over UDP to `to`
        push_pull,  // exchange local_state() with `to` over RPC, then merge_remote_state()
    };
    common::endpoint to;
    std::vector<std::uint8_t> payload;
    kind type = kind::datagram;
    bool join = false;  // push_pull made by join()
};

struct swim_counters {
    std::uint64_t datagrams_received = 0;
    std::uint64_t datagrams_rejected = 0;  // malformed, wrong version, or failed to open
    std::uint64_t datagrams_replayed = 0;  // authenticated but already seen (anti-replay window)
    // Authenticated but sealed for another member (gossip_envelope.hpp: receiver binding).
    std::uint64_t datagrams_wrong_receiver = 0;
    std::uint64_t datagrams_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t misdirected = 0;       // pings for another name, unknown acks
    std::uint64_t probes = 0;            // direct pings we started (round-robin and out of turn)
    std::uint64_t phi_probes = 0;        // out-of-turn probes triggered by phi
    std::uint64_t requested_probes = 0;  // probe_now()
    std::uint64_t indirect_probes = 0;   // ping-reqs sent
    std::uint64_t nacks_received = 0;
    std::uint64_t probe_failures = 0;
    std::uint64_t second_chances = 0;  // probes repeated after a first failure (no accusation yet)
    std::uint64_t suspicions = 0;      // members we marked suspect (own or heard)
    std::uint64_t refutations = 0;     // suspicions about us we refuted
    std::uint64_t failures_declared = 0;  // suspicion timers that expired here
    std::uint64_t push_pulls = 0;         // push-pull exchanges requested
    // Replies to a source that is not a known member, not sent without a gossip key because they
    // would be larger than what the source sent, or over unknown_reply_rate (swim_config).
    std::uint64_t replies_limited = 0;
    // New members beyond max_push_pull_members in one push-pull state, not merged.
    std::uint64_t push_pull_members_dropped = 0;
    // Datagrams the kernel dropped before the shell could read them (receive buffer full).
    // Filled by swim_service::counters() from the socket (SO_MEMINFO); the core leaves it 0.
    std::uint64_t datagrams_dropped_by_kernel = 0;
};

class swim_state {
public:
    // generation: grows across restarts of this node (e.g. unix seconds at start); the first
    // incarnation is make_incarnation(generation, 0).
    swim_state(const swim_config& config, std::string name, common::endpoint addr, tag_map tags,
               common::rng& rng, common::time_point now, std::uint32_t generation = 0);

    // Runs every timer due at `now`. Call at least every tick_resolution(), or at next_deadline().
    std::vector<outbound> on_tick(common::time_point now);

    // One received datagram (already opened by the shell). Malformed input is dropped and
    // counted in counters().datagrams_rejected; never throws.
    std::vector<outbound> on_datagram(const common::endpoint& from,
                                      std::span<const std::uint8_t> datagram,
                                      common::time_point now);

    // Push-pull with every seed (except our own address); seeds are retried every
    // reconnect_interval while none of them is a live member.
    std::vector<outbound> join(std::vector<common::endpoint> seeds, common::time_point now);

    // New tags: bumps our incarnation and gossips alive.
    std::vector<outbound> set_tags(tag_map tags, common::time_point now);

    // Graceful leave: gossips left (others report left, never failed) and stops probing.
    std::vector<outbound> leave(common::time_point now);

    // Probes `name` immediately, out of turn (the director asks when a client reports a worker).
    // No-op for unknown, dead or already-probed members.
    std::vector<outbound> probe_now(const std::string& name, common::time_point now);

    std::vector<member_event> drain_events();
    // Round trips of the probes acked since the last call (ping sent -> ack received, direct or
    // through ping-req), oldest first; at most max_probe_rtts are kept between calls.
    std::vector<common::duration> drain_probe_rtts();
    static constexpr std::size_t max_probe_rtts = 256;

    // Every known member, ourselves first.
    std::vector<member> members() const;
    std::optional<member> find(const std::string& name) const;
    const member& self() const { return self_; }
    bool leaving() const { return leaving_; }

    // Adds alive members without events or gossip: for simulations that start from a converged
    // cluster, and shells restoring a snapshot. Known names are merged as usual.
    void seed_members(const std::vector<member>& known, common::time_point now);

    // Push-pull: our full state, and merging a peer's (failed entries are merged as suspect so
    // their subject can refute, as memberlist does).
    std::vector<member> local_state() const;
    void merge_remote_state(const std::vector<member>& remote, common::time_point now);
    // The same for the answer of a seed we joined: a live member there holding our name at
    // another address makes us the newcomer (member_event::newcomer, name_claim.hpp).
    void merge_join_state(const std::vector<member>& remote, common::time_point now);

    // The shell reports datagrams it could not open (authentication failure) here.
    void note_rejected() { ++counters_.datagrams_rejected; }
    // ... and authenticated datagrams its replay window refused (replay_guard.hpp).
    void note_replayed() { ++counters_.datagrams_replayed; }
    void note_wrong_receiver() { ++counters_.datagrams_wrong_receiver; }

    const swim_counters& counters() const { return counters_; }
    // Membership updates still waiting to be gossiped (leave() drains these before stopping).
    bool broadcasts_pending() const { return !queue_.empty(); }
    std::size_t broadcasts_queued() const { return queue_.size(); }
    std::uint32_t health_score() const { return awareness_.score(); }
    // Alive + suspect members, ourselves included.
    std::size_t live_count() const { return live_ + 1; }
    // The earliest time on_tick has something to do.
    common::time_point next_deadline() const;
    // A tick period fine enough for every timer (shells that tick periodically use this).
    common::duration tick_resolution() const;
    // Retransmissions per update at the current size.
    std::uint32_t retransmit_limit() const;

private:
    struct entry {
        member m;
        common::time_point state_change;
        std::optional<failure::suspicion> suspicion;
        failure::phi_detector phi;
        std::optional<common::time_point> phi_check;
        bool probing = false;
        std::optional<common::time_point> suspicion_timer;  // key in suspicion_timers_
    };
    struct probe {
        std::string target;
        common::endpoint addr;
        common::time_point ack_deadline;
        common::time_point end;
        bool indirect_sent = false;
        std::uint32_t expected_nacks = 0;
        std::uint32_t nacks = 0;
        common::time_point started{};
        std::vector<std::string> relays;  // asked to ping-req: their acks count as well
        // Set on a second chance: when the first probe of the target failed.
        std::optional<common::time_point> first_failure;
        // Set on a look before declaring (a suspicion timer expired; docs/gossip-storm.md): the
        // looks left after this one.
        std::optional<unsigned> final_looks_left;
    };
    struct relay {
        common::endpoint origin;
        std::uint32_t origin_seq = 0;
        common::time_point deadline;
        std::string target;  // only its ack is relayed
    };
    using out_vec = std::vector<outbound>;

    // merge rules (swim_state_merge.cpp)
    void apply(const wire::message& m, common::time_point now);
    void apply_alive(const wire::alive_msg& m, common::time_point now);
    void apply_suspect(const wire::suspect_msg& m, common::time_point now);
    void apply_failed(const wire::failed_msg& m, common::time_point now);
    void apply_left(const wire::left_msg& m, common::time_point now);
    void refute(std::uint64_t heard);
    void about_self(std::uint64_t heard);
    // since: when the suspicion began (its timer runs from there); now unless backdated.
    void suspect_member(entry& e, const std::string& from, common::time_point now,
                        std::optional<common::time_point> since = std::nullopt);
    void set_status(entry& e, member_status s, common::time_point now);
    void arm_suspicion(entry& e);
    void add_member(const wire::alive_msg& m, common::time_point now, bool quiet = false);
    void emit(member_event_kind kind, const member& m);
    void broadcast(const wire::message& m, const std::string& about, bool priority = false);
    void broadcast_self_alive();

    // name conflicts (swim_state_claims.cpp, name_claim.hpp)
    bool refuse_claim(const entry& e, const wire::alive_msg& m);
    void note_self_claim(const wire::alive_msg& m);

    // probing and timers (swim_state_probe.cpp)
    void handle(const common::endpoint& from, const wire::message& m, common::time_point now,
                out_vec& out);
    void heard_from(const std::string& sender, common::time_point now);
    std::uint32_t start_probe(entry& e, common::time_point now, out_vec& out,
                              std::optional<common::time_point> first_failure = std::nullopt);
    void send_ping_reqs(std::uint32_t seq, probe& p, out_vec& out, std::size_t relays);
    void round_robin_probe(common::time_point now, out_vec& out);
    void run_probes(common::time_point now, out_vec& out);
    void finish_probe(std::uint32_t seq, bool acked, common::time_point now, out_vec& out);
    void run_relays(common::time_point now, out_vec& out);
    void run_suspicions(common::time_point now, out_vec& out);
    void declare_failed(entry& e, common::time_point now);
    void run_phi_checks(common::time_point now, out_vec& out);
    void run_gossip(common::time_point now, out_vec& out);
    void gossip_now(out_vec& out);
    void run_push_pull(common::time_point now, out_vec& out);
    void run_reconnect(common::time_point now, out_vec& out);
    void reap(common::time_point now);
    void send(out_vec& out, const common::endpoint& to,
              std::vector<std::vector<std::uint8_t>> head);
    std::vector<std::string> random_members(std::size_t k, const std::string& exclude,
                                            bool alive_only);
    entry* lookup(const std::string& name);
    failure::phi_config phi_config() const;
    std::uint32_t expected_confirmations() const;

    swim_config config_;
    common::rng& rng_;
    member self_;
    bool leaving_ = false;
    std::size_t max_payload_;

    std::unordered_map<std::string, entry> members_;  // everyone but ourselves
    std::vector<std::string> names_;                  // keys of members_, for random picks
    struct endpoint_hash {
        std::size_t operator()(const common::endpoint& e) const {
            return std::hash<std::string>{}(e.host) * 31 + e.port;
        }
    };
    // address -> name, to recognise the member behind a datagram's address
    std::unordered_map<common::endpoint, std::string, endpoint_hash> addr_index_;
    std::vector<std::string> probe_order_;
    std::size_t probe_index_ = 0;
    std::size_t live_ = 0;       // alive + suspect in members_
    std::size_t size_hint_ = 0;  // cluster size while merging a full state (phi estimates)
    // (deadline, name) ordered timers, so next_deadline() and the expiry scans stay O(log N)
    // with many suspects or dead members.
    using timer_set = std::set<std::pair<common::time_point, std::string>>;
    timer_set suspicion_timers_;  // suspects, by suspicion deadline
    timer_set reap_timers_;       // failed or left members, by reap time

    std::map<std::uint32_t, probe> probes_;
    std::map<std::uint32_t, relay> relays_;
    // Probe sequence numbers are random (issue #11 item 2): nobody can predict the number of the
    // next probe, and an ack counts only when it names a probe in flight and comes from the member
    // probed or a relay asked for it (handling_sender_).
    std::uint32_t draw_seq();
    std::string handling_sender_;
    using phi_item = std::pair<common::time_point, std::string>;
    std::priority_queue<phi_item, std::vector<phi_item>, std::greater<>> phi_checks_;

    common::time_point next_probe_;
    common::time_point next_gossip_;
    common::time_point next_push_pull_;
    common::time_point next_reconnect_;
    common::time_point next_phi_probe_;  // phi probes are rate-limited to one per period
    std::vector<common::endpoint> seeds_;

    failure::awareness awareness_;
    dissemination_queue queue_;
    std::vector<member_event> events_;
    std::vector<common::duration> probe_rtts_;
    swim_counters counters_;
    claim_log claims_;            // name conflicts already reported
    bool joining_merge_ = false;  // inside merge_join_state()

    // Amplification guard (swim_config::authenticated): bytes of the datagram being handled
    // (0 outside on_datagram: nothing unsolicited goes to unknown sources), and a token bucket
    // per unknown source.
    bool may_reply_to_unknown(const common::endpoint& to, std::size_t bytes,
                              common::time_point now);
    std::size_t handling_bytes_ = 0;
    common::time_point handling_at_{};
    struct reply_bucket {
        double tokens = 0;
        common::time_point at{};
    };
    std::unordered_map<common::endpoint, reply_bucket, endpoint_hash> reply_buckets_;
};

}  // namespace rpcnetd::membership
