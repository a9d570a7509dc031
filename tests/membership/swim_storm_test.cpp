// Gossip under loss (issue #15, docs/gossip-storm.md): a lossy network must cost a little more
// traffic, not start a dissemination storm of suspicions and refutations that ends in false
// failures. The N=1000 byte budget runs as its own CTest entry (tag [.storm], CMakeLists.txt):
// it takes several seconds, much longer under sanitizers.
#include "membership/swim_state.hpp"

#include "support/sim_network.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using namespace rpcnetd;
using membership::member_event_kind;
using test::sim_network;

namespace {

struct lossy_run {
    std::size_t false_failures = 0;
    double bytes_per_member_s = 0;
    std::uint64_t suspicions = 0;
};

// n members start converged, then every datagram is lost with probability `loss`; traffic is
// measured over `measure` after `warmup` (as build/gossip_sim does).
lossy_run run_lossy(std::size_t n, double loss, common::duration warmup, common::duration measure,
                    std::uint64_t seed) {
    membership::swim_config config;
    sim_network sim(config, seed);
    sim.record_events(false);
    lossy_run r;
    sim.on_event = [&](std::size_t, common::time_point, const membership::member_event& e) {
        if (e.kind == member_event_kind::failed) {
            ++r.false_failures;  // nobody is killed: every failure is false
        }
    };
    for (std::size_t i = 0; i < n; ++i) {
        sim.add_node("node-" + std::to_string(i));
    }
    sim.seed_all();
    sim.set_loss(loss);
    sim.run_for(warmup);
    const auto before = sim.stats();
    sim.run_for(measure);
    const auto after = sim.stats();
    r.bytes_per_member_s = static_cast<double>(after.bytes_sent - before.bytes_sent) /
                           (static_cast<double>(n) * common::to_seconds(measure));
    r.suspicions = sim.counters_total().suspicions;
    return r;
}

} // namespace

TEST_CASE("swim storm: N=100 at 25 % loss for 30 s declares no live member failed",
          "[membership]") {
    const auto r = run_lossy(100, 0.25, 1s, 29s, 1525);
    INFO("suspicions heard " << r.suspicions << ", bytes per member per second "
                             << r.bytes_per_member_s);
    CHECK(r.false_failures == 0);
}

TEST_CASE("swim storm: N=1000 at 10 % loss stays within 2,000 bytes per member per second",
          "[.storm][membership]") {
    const auto r = run_lossy(1000, 0.10, 1s, 2s, 1010);
    INFO("suspicions heard " << r.suspicions << ", false failures " << r.false_failures);
    CHECK(r.bytes_per_member_s <= 2000.0);
    CHECK(r.false_failures == 0);
}
