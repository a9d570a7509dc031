#pragma once
// One swim_state, "a" at h:1, that already knows b (h:2) and c (h:3), for tests that hand it
// datagrams one at a time in virtual time (from t0). Probing and gossip are slowed to every 10 s
// so nothing happens but what the test delivers.
#include "membership/swim_state.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace rpcnetd::test {

struct swim_harness {
    using member_list = std::vector<membership::member>;

    common::rng rng{3};
    common::time_point t0 = common::time_point{} + std::chrono::seconds(100);
    membership::swim_state s;

    // `known` replaces b and c; `generation` is a's (membership::make_incarnation).
    explicit swim_harness(const member_list& known = default_members(),
                          std::uint32_t generation = 0)
        : s(config(), "a", {"h", 1}, {}, rng, t0, generation) {
        s.seed_members(known, t0);
    }
    static member_list default_members() {
        return {{"b", {"h", 2}, 0, membership::member_status::alive, {}},
                {"c", {"h", 3}, 0, membership::member_status::alive, {}}};
    }
    static membership::swim_config config() {
        membership::swim_config c;
        c.probe_interval = std::chrono::seconds(10);  // no round-robin probe gets in the way
        c.gossip_interval = std::chrono::seconds(10);
        return c;
    }
    // One datagram from `from`, sent by `sender`, holding `m`, at t0 + at.
    std::vector<membership::outbound> deliver(const common::endpoint& from,
                                              const std::string& sender,
                                              membership::wire::message m,
                                              common::duration at = std::chrono::milliseconds(1)) {
        const std::vector<membership::wire::message> ms{std::move(m)};
        return s.on_datagram(from, membership::wire::encode_packet(sender, ms), t0 + at);
    }
};

}  // namespace rpcnetd::test
