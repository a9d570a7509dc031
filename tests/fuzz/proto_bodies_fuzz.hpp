#pragma once
// fuzz_proto_bodies: ParseFromString on the untrusted frame bodies and RPC requests of
// rpcnetd.proto, then what the app does with them.
//
// Input byte 0 picks the message (Hello, Call, End, GoAway, GenerateRequest, AssignRequest,
// ReportFailureRequest, ReleaseRequest, PushPullRequest, PushPullResponse); the rest is the body.
// For every message: a body that parses re-serializes to bytes that parse again and serialize
// identically (unknown fields included). For the push-pull messages, the members go through
// membership::from_proto as member_node does: every accepted entry has a name of 1..255 bytes and
// a known state, survives to_proto -> from_proto unchanged, and merging them all into a small
// swim_state keeps the invariants of swim_invariants.hpp.
#include "fuzz/fuzz_support.hpp"
#include "fuzz/swim_invariants.hpp"
#include "membership/member_proto.hpp"
#include "membership/swim_state.hpp"
#include "proto/rpcnetd.pb.h"

#include <chrono>
#include <string>

namespace rpcnetd::fuzz {

namespace proto_fuzz {

template <class Message>
bool reparse(const std::string& body, Message& msg) {
    if (!msg.ParseFromString(body)) {
        return false;
    }
    const std::string once = msg.SerializeAsString();
    Message again;
    RPCNETD_FUZZ_CHECK(again.ParseFromString(once));
    RPCNETD_FUZZ_CHECK(again.SerializeAsString() == once);
    return true;
}

inline void merge_members(const google::protobuf::RepeatedPtrField<v1::MemberState>& states) {
    using namespace std::chrono_literals;
    std::size_t skipped = 0;
    const auto members = membership::from_proto(states, &skipped);
    RPCNETD_FUZZ_CHECK(members.size() + skipped == static_cast<std::size_t>(states.size()));
    for (const auto& m : members) {
        RPCNETD_FUZZ_CHECK(!m.name.empty() && m.name.size() <= 255);
        RPCNETD_FUZZ_CHECK(static_cast<std::uint8_t>(m.status) <= 3);
        const auto back = membership::from_proto(membership::to_proto(m));
        RPCNETD_FUZZ_CHECK(back.has_value() && *back == m);
    }
    membership::swim_config cfg;
    common::rng rng(7);
    auto now = common::time_point{} + 1h;
    membership::swim_state s(cfg, "n0", {"10.0.0.0", 7946}, {}, rng, now, 1000);
    s.seed_members({{"n1",
                     {"10.0.0.1", 7946},
                     membership::make_incarnation(1000, 0),
                     membership::member_status::alive,
                     {}}},
                   now);
    swim_observer observer(cfg);
    observer.check(s, {});
    s.merge_remote_state(members, now);
    observer.check(s, {});
    now += 10s;  // every suspicion raised by the merge expires, gossip and push-pull run
    observer.check(s, s.on_tick(now));
    RPCNETD_FUZZ_CHECK(s.next_deadline() > now);
}

}  // namespace proto_fuzz

inline void fuzz_proto_bodies(std::span<const std::uint8_t> data) {
    byte_reader in(data);
    const auto which = in.u8() % 10;
    const auto rest = in.rest();
    const std::string body(reinterpret_cast<const char*>(rest.data()), rest.size());
    switch (which) {
    case 0: {
        v1::Hello m;
        proto_fuzz::reparse(body, m);
        break;
    }
    case 1: {
        v1::Call m;
        proto_fuzz::reparse(body, m);
        break;
    }
    case 2: {
        v1::End m;
        proto_fuzz::reparse(body, m);
        break;
    }
    case 3: {
        v1::GoAway m;
        proto_fuzz::reparse(body, m);
        break;
    }
    case 4: {
        v1::GenerateRequest m;
        proto_fuzz::reparse(body, m);
        break;
    }
    case 5: {
        v1::AssignRequest m;
        proto_fuzz::reparse(body, m);
        break;
    }
    case 6: {
        v1::ReportFailureRequest m;
        proto_fuzz::reparse(body, m);
        break;
    }
    case 7: {
        v1::ReleaseRequest m;
        proto_fuzz::reparse(body, m);
        break;
    }
    case 8: {
        v1::PushPullRequest m;
        if (proto_fuzz::reparse(body, m)) {
            proto_fuzz::merge_members(m.members());
        }
        break;
    }
    default: {
        v1::PushPullResponse m;
        if (proto_fuzz::reparse(body, m)) {
            proto_fuzz::merge_members(m.members());
        }
        break;
    }
    }
}

}  // namespace rpcnetd::fuzz
