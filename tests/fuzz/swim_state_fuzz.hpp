#pragma once
// fuzz_swim_state: membership::swim_state driven by a script read from the input.
//
// A fixed cluster: we are "n0" at 10.0.0.0:7946 and know n1..n4 (10.0.0.<i>:7946); timers are
// shortened (push-pull 2 s, reconnect 1 s, reap 3 s) so a short script reaches every one. Each
// step reads an op byte:
//   ticks of 5 ms .. 1.3 s or to next_deadline() (virtual time only moves forward);
//   a well-formed datagram of 1-3 messages (ping, ping-req, ack/nack of a sequence number we
//   really sent or any, alive/suspect/failed/left about n0..n4, a stranger, "", or any name, with
//   incarnations around the known one, 0, 2^64-1 or any), from a member's or any address;
//   raw bytes as a datagram; merge_remote_state; probe_now; set_tags; join; rarely leave.
// After every step swim_invariants.hpp checks the state; after a tick, next_deadline() is later
// than now (a shell sleeping until it never spins); after an accusation about us that we can
// refute, our incarnation is above the accused one.
#include "fuzz/fuzz_support.hpp"
#include "fuzz/swim_invariants.hpp"
#include "membership/swim_state.hpp"

#include <chrono>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace rpcnetd::fuzz {

namespace swim_fuzz {

using namespace std::chrono_literals;
namespace wire = membership::wire;

inline constexpr std::size_t cluster_size = 5;

inline common::endpoint member_addr(std::size_t i) {
    return {"10.0.0." + std::to_string(i), 7946};
}

inline membership::swim_config config() {
    membership::swim_config c;
    c.push_pull_interval = 2s;
    c.reconnect_interval = 1s;
    c.reap_after = 3s;
    c.envelope_reserve = 29;  // gossip_cipher::overhead(), as the app configures it
    return c;
}

class driver {
public:
    explicit driver(byte_reader& in)
        : in_(in), cfg_(config()), rng_(42), now_(common::time_point{} + 1h),
          state_(cfg_, "n0", member_addr(0), {{"role", "worker"}}, rng_, now_, 1000),
          observer_(cfg_) {
        std::vector<membership::member> known;
        for (std::size_t i = 1; i < cluster_size; ++i) {
            known.push_back({"n" + std::to_string(i),
                             member_addr(i),
                             membership::make_incarnation(1000, 0),
                             membership::member_status::alive,
                             {}});
        }
        state_.seed_members(known, now_);
        observer_.check(state_, {});
    }

    void run() {
        while (!in_.empty()) {
            step();
        }
    }

private:
    void step() {
        const std::uint8_t op = in_.u8() % 16;
        if (op <= 3) {
            tick(now_ + (in_.u8() + 1) * 5ms);
        } else if (op == 4) {
            tick(now_ + (in_.u8() + 1) * 100ms);
        } else if (op <= 6) {
            tick(std::max(now_, state_.next_deadline()));
        } else if (op <= 10) {
            datagram();
        } else if (op == 11) {
            const auto raw = in_.bytes(in_.u8());
            observer_.check(state_, state_.on_datagram(pick_addr(""), raw, now_));
        } else if (op == 12) {
            merge();
        } else if (op == 13) {
            observer_.check(state_, state_.probe_now(pick_name(), now_));
        } else if (op == 14) {
            observer_.check(state_, state_.set_tags({{"load", std::to_string(in_.u8())}}, now_));
        } else if (in_.u8() == 0) {
            observer_.check(state_, state_.leave(now_));
        } else {
            observer_.check(state_,
                            state_.join({member_addr(1), member_addr(0), pick_addr("")}, now_));
        }
    }

    void tick(common::time_point t) {
        now_ = t;
        observer_.check(state_, state_.on_tick(now_));
        RPCNETD_FUZZ_CHECK(state_.next_deadline() > now_);
    }

    std::string pick_name() {
        const std::size_t b = in_.u8() % 8U;
        if (b < cluster_size) {
            return "n" + std::to_string(b);
        }
        if (b == 5) {
            return "x5";
        }
        return b == 6 ? std::string{} : in_.str();
    }

    std::uint64_t pick_incarnation(const std::string& name) {
        const auto known = state_.find(name);
        const std::uint64_t cur = known ? known->incarnation : 0;
        switch (in_.u8() % 6) {
        case 0:
            return cur;
        case 1:
            return cur + 1;
        case 2:
            return cur == 0 ? 0 : cur - 1;
        case 3:
            return 0;
        case 4:
            return std::numeric_limits<std::uint64_t>::max();
        default:
            return in_.u64();
        }
    }

    common::endpoint pick_addr(const std::string& name) {
        switch (in_.u8() % 4) {
        case 0:
            if (const auto known = state_.find(name)) {
                return known->addr;
            }
            return member_addr(1);
        case 1:
            return {"10.0.0." + std::to_string(in_.u8()), 7946};
        case 2:
            return member_addr(0);
        default: {
            std::string host = in_.str();
            return {std::move(host), in_.u16()};
        }
        }
    }

    std::uint32_t pick_seq() {
        const auto& seqs = observer_.sent_seqs();
        if (in_.u8() % 2 == 0 && !seqs.empty()) {
            return seqs[in_.u8() % seqs.size()];
        }
        return in_.u32();
    }

    // One message; accusations about us (suspect / failed / left naming n0) raise accused_self.
    wire::message message(std::optional<std::uint64_t>& accused_self) {
        const auto kind = in_.u8() % 8;
        const std::string name = pick_name();
        switch (kind) {
        case 0:
            return wire::ping_msg{pick_seq(), name};
        case 1:
            return wire::ping_req_msg{pick_seq(), name, pick_addr(name)};
        case 2:
            return wire::ack_msg{pick_seq()};
        case 3:
            return wire::nack_msg{pick_seq()};
        default:
            break;
        }
        const std::uint64_t inc = pick_incarnation(name);
        if (kind == 4) {
            membership::tag_map tags;
            for (auto n = in_.u8() % 3; n > 0; --n) {
                tags[in_.str(8)] = in_.str(8);
            }
            return wire::alive_msg{name, pick_addr(name), inc, std::move(tags)};
        }
        if (name == state_.self().name) {
            accused_self = std::max(accused_self.value_or(0), inc);
        }
        if (kind == 5) {
            return wire::suspect_msg{name, inc, pick_name()};
        }
        if (kind == 6) {
            return wire::failed_msg{name, inc, pick_name()};
        }
        return wire::left_msg{name, inc};
    }

    void datagram() {
        const std::string sender = pick_name();
        std::vector<wire::message> msgs;
        std::optional<std::uint64_t> accused;
        for (auto n = in_.u8() % 3 + 1; n > 0; --n) {
            msgs.push_back(message(accused));
        }
        const bool leaving = state_.leaving();
        const auto bytes = wire::encode_packet(sender, std::span<const wire::message>(msgs));
        observer_.check(state_, state_.on_datagram(pick_addr(sender), bytes, now_));
        // We refute every accusation we hear (unless leaving): afterwards we are above it. A
        // packet the codec refuses as a whole (a name that is not UTF-8, an unusable address)
        // carries no accusation.
        const bool delivered = !sender.empty() && sender != state_.self().name &&
                               wire::decode_packet(bytes).has_value();
        if (delivered && accused && !leaving &&
            *accused < std::numeric_limits<std::uint64_t>::max()) {
            RPCNETD_FUZZ_CHECK(state_.self().incarnation > *accused);
        }
    }

    void merge() {
        std::vector<membership::member> remote;
        for (auto n = in_.u8() % 4; n > 0; --n) {
            membership::member m;
            m.name = pick_name();
            m.addr = pick_addr(m.name);
            m.incarnation = pick_incarnation(m.name);
            m.status = static_cast<membership::member_status>(in_.u8() % 4);
            remote.push_back(std::move(m));
        }
        state_.merge_remote_state(remote, now_);
        observer_.check(state_, {});
    }

    byte_reader& in_;
    membership::swim_config cfg_;
    common::rng rng_;
    common::time_point now_;
    membership::swim_state state_;
    swim_observer observer_;
};

}  // namespace swim_fuzz

inline void fuzz_swim_state(std::span<const std::uint8_t> data) {
    byte_reader in(data);
    swim_fuzz::driver d(in);
    d.run();
}

}  // namespace rpcnetd::fuzz
