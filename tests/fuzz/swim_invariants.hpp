#pragma once
// The invariants of membership::swim_state that can be seen through its public API, checked after
// every step of the swim_state and proto_bodies fuzz targets.
//
//  - members() lists ourselves first, then every other member once; no other entry carries our
//    name or an empty name; find() agrees with members().
//  - we are alive (left once leave() ran); our incarnation never decreases.
//  - live_count() is 1 + the other members that are alive or suspect.
//  - while a member stays known its incarnation never decreases, and it returns to alive from
//    suspect / failed / left only with a strictly higher incarnation (SWIM §4.2).
//  - events are never about ourselves or a nameless member.
//  - every outbound datagram fits max_datagram - envelope_reserve, decodes with our name as its
//    sender; a push-pull request carries no payload.
#include "fuzz/fuzz_support.hpp"
#include "membership/swim_state.hpp"

#include <map>
#include <set>
#include <vector>

namespace rpcnetd::fuzz {

class swim_observer {
public:
    explicit swim_observer(const membership::swim_config& config) : config_(config) {}

    // Checks the outcome of one call: its outbound actions and the state it left.
    void check(membership::swim_state& s, const std::vector<membership::outbound>& out) {
        check_outbound(s, out);
        check_events(s);
        check_members(s);
    }

    // Sequence numbers of the pings and ping-reqs sent so far (the harness acks some of them).
    const std::vector<std::uint32_t>& sent_seqs() const { return seqs_; }

private:
    void check_outbound(const membership::swim_state& s,
                        const std::vector<membership::outbound>& out) {
        const std::size_t max_payload = config_.max_datagram - config_.envelope_reserve;
        for (const auto& o : out) {
            if (o.type == membership::outbound::kind::push_pull) {
                RPCNETD_FUZZ_CHECK(o.payload.empty());
                continue;
            }
            RPCNETD_FUZZ_CHECK(o.payload.size() <= max_payload);
            const auto p = membership::wire::decode_packet(o.payload);
            RPCNETD_FUZZ_CHECK(p.has_value());
            RPCNETD_FUZZ_CHECK(p->sender == s.self().name);
            for (const auto& m : p->messages) {
                if (const auto* ping = std::get_if<membership::wire::ping_msg>(&m)) {
                    remember(ping->seq);
                } else if (const auto* req = std::get_if<membership::wire::ping_req_msg>(&m)) {
                    remember(req->seq);
                }
            }
        }
    }

    void remember(std::uint32_t seq) {
        if (seqs_.size() == 8) {
            seqs_.erase(seqs_.begin());
        }
        seqs_.push_back(seq);
    }

    void check_events(membership::swim_state& s) {
        for (const auto& e : s.drain_events()) {
            RPCNETD_FUZZ_CHECK(!e.snapshot.name.empty());
            if (e.kind == membership::member_event_kind::conflict) {
                // Two addresses for one name (ours too): never the same address twice.
                RPCNETD_FUZZ_CHECK(e.claimant != e.snapshot.addr);
            } else {
                RPCNETD_FUZZ_CHECK(e.snapshot.name != s.self().name);
            }
        }
    }

    static bool is_live(membership::member_status st) {
        return st == membership::member_status::alive || st == membership::member_status::suspect;
    }

    void check_members(const membership::swim_state& s) {
        using membership::member_status;
        const auto& self = s.self();
        RPCNETD_FUZZ_CHECK(self.status ==
                           (s.leaving() ? member_status::left : member_status::alive));
        RPCNETD_FUZZ_CHECK(self.incarnation >= self_incarnation_);
        self_incarnation_ = self.incarnation;

        const auto ms = s.members();
        RPCNETD_FUZZ_CHECK(!ms.empty() && ms.front() == self);
        std::set<std::string> names;
        std::size_t live = 0;
        std::map<std::string, std::pair<member_status, std::uint64_t>> now;
        for (std::size_t i = 1; i < ms.size(); ++i) {
            const auto& m = ms[i];
            RPCNETD_FUZZ_CHECK(!m.name.empty() && m.name != self.name);
            RPCNETD_FUZZ_CHECK(names.insert(m.name).second);
            RPCNETD_FUZZ_CHECK(s.find(m.name) == m);
            live += is_live(m.status) ? 1 : 0;
            if (auto it = seen_.find(m.name); it != seen_.end()) {
                const auto [old_status, old_inc] = it->second;
                RPCNETD_FUZZ_CHECK(m.incarnation >= old_inc);
                if (m.status == member_status::alive && old_status != member_status::alive) {
                    RPCNETD_FUZZ_CHECK(m.incarnation > old_inc);
                }
                if (is_live(m.status) && !is_live(old_status)) {
                    RPCNETD_FUZZ_CHECK(m.incarnation > old_inc);
                }
            }
            now[m.name] = {m.status, m.incarnation};
        }
        RPCNETD_FUZZ_CHECK(s.live_count() == live + 1);
        seen_ = std::move(now);  // reaped members are forgotten and may come back at any number
    }

    membership::swim_config config_;
    std::uint64_t self_incarnation_ = 0;
    std::map<std::string, std::pair<membership::member_status, std::uint64_t>> seen_;
    std::vector<std::uint32_t> seqs_;
};

}  // namespace rpcnetd::fuzz
