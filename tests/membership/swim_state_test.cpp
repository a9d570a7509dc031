// swim_state scenarios in virtual time: small clusters in sim_network (join, probes, indirect
// probes, refutation, expiry, leave and reaping, restart, tags, local health).
#include "membership/swim_state.hpp"

#include "support/sim_network.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace std::chrono_literals;
using namespace rpcnetd;
using membership::member_event_kind;
using membership::member_status;
using test::sim_network;

namespace {

membership::swim_config test_config() {
    membership::swim_config c;  // the defaults of DESIGN.md §6
    c.reap_after = 30s;
    return c;
}

// n nodes "node-<i>", all joined through node 0, converged.
void start_cluster(sim_network& sim, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        sim.add_node("node-" + std::to_string(i));
    }
    for (std::size_t i = 1; i < n; ++i) {
        sim.join(i, {0});
    }
    REQUIRE(sim.run_until([&] { return sim.converged(); }, 5s));
}

std::size_t count_events(const sim_network& sim, std::size_t node, member_event_kind kind,
                         const std::string& about) {
    const auto& ev = sim.events(node);
    return static_cast<std::size_t>(std::count_if(ev.begin(), ev.end(), [&](const auto& r) {
        return r.event.kind == kind && r.event.snapshot.name == about;
    }));
}

std::size_t count_events_everywhere(const sim_network& sim, member_event_kind kind,
                                    const std::string& about) {
    std::size_t total = 0;
    for (std::size_t i = 0; i < sim.size(); ++i) {
        total += count_events(sim, i, kind, about);
    }
    return total;
}

}  // namespace

TEST_CASE("swim_state: members join through a seed", "[membership]") {
    sim_network sim(test_config(), 1);
    start_cluster(sim, 3);
    CHECK(count_events(sim, 0, member_event_kind::joined, "node-1") == 1);
    CHECK(count_events(sim, 0, member_event_kind::joined, "node-2") == 1);
    CHECK(count_events(sim, 1, member_event_kind::joined, "node-2") == 1);
    const auto members = sim.state(2).members();
    REQUIRE(members.size() == 3);
    CHECK(members.front().name == "node-2");  // self first
    SECTION("joining our own address is skipped") {
        CHECK(sim.state(0).join({sim.addr(0)}, sim.now()).empty());
    }
}

TEST_CASE("swim_state: probes keep a healthy cluster alive", "[membership]") {
    sim_network sim(test_config(), 2);
    start_cluster(sim, 4);
    sim.run_for(20s);
    CHECK(sim.converged());
    for (std::size_t i = 0; i < 4; ++i) {
        const auto& c = sim.state(i).counters();
        CHECK(c.probes >= 80);  // ~ one per 200 ms period
        CHECK(c.suspicions == 0);
        CHECK(c.datagrams_rejected == 0);
        CHECK(sim.state(i).health_score() == 0);
    }
}

TEST_CASE("swim_state: indirect probes save a member whose direct path is cut", "[membership]") {
    sim_network sim(test_config(), 3);
    start_cluster(sim, 5);
    sim.cut(0, 1);
    sim.run_for(30s);
    CHECK(sim.converged());
    CHECK(sim.state(0).counters().indirect_probes > 0);
    CHECK(count_events_everywhere(sim, member_event_kind::failed, "node-0") == 0);
    CHECK(count_events_everywhere(sim, member_event_kind::failed, "node-1") == 0);
    // Some ping-reqs went through node-0 or node-1's peers and were answered.
    CHECK(sim.state(0).counters().probe_failures < sim.state(0).counters().indirect_probes);
}

TEST_CASE("swim_state: a suspect refutes with a higher incarnation", "[membership]") {
    sim_network sim(test_config(), 4);
    start_cluster(sim, 4);
    const auto inc_before = sim.state(2).self().incarnation;
    sim.pause(2, true);  // hung for a moment
    REQUIRE(sim.run_until([&] { return sim.status(0, "node-2") == member_status::suspect; }, 2s));
    sim.pause(2, false);
    REQUIRE(sim.run_until([&] { return sim.all_see("node-2", member_status::alive); }, 3s));
    CHECK(sim.state(2).counters().refutations >= 1);
    CHECK(sim.state(2).self().incarnation > inc_before);
    CHECK(count_events(sim, 0, member_event_kind::suspect, "node-2") >= 1);
    CHECK(count_events(sim, 0, member_event_kind::recovered, "node-2") >= 1);
    CHECK(count_events_everywhere(sim, member_event_kind::failed, "node-2") == 0);
    sim.run_for(10s);
    CHECK(sim.converged());
}

TEST_CASE("swim_state: an unanswered suspicion expires to failed", "[membership]") {
    sim_network sim(test_config(), 5);
    start_cluster(sim, 5);
    const auto killed_at = sim.now();
    sim.kill(4);
    REQUIRE(sim.run_until([&] { return sim.all_see("node-4", member_status::failed); }, 10s));
    CHECK(sim.now() - killed_at < 6s);
    std::uint64_t declared = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(count_events(sim, i, member_event_kind::failed, "node-4") == 1);
        declared += sim.state(i).counters().failures_declared;
    }
    CHECK(declared >= 1);
    std::uint64_t nacks = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        nacks += sim.state(i).counters().nacks_received;
    }
    CHECK(nacks > 0);  // intermediaries said "I am fine, the target is silent" (Lifeguard)
    sim.run_for(5s);
    CHECK(sim.all_see("node-4", member_status::failed));  // nobody resurrects it
}

TEST_CASE("swim_state: a member that leaves is reported left, never failed, then reaped",
          "[membership]") {
    auto config = test_config();
    config.reap_after = 5s;
    sim_network sim(config, 6);
    start_cluster(sim, 4);
    sim.leave(3);
    CHECK(sim.state(3).leaving());
    REQUIRE(sim.run_until([&] { return sim.all_see("node-3", member_status::left); }, 2s));
    sim.kill(3);
    sim.run_for(4s);
    CHECK(sim.all_see("node-3", member_status::left));
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(count_events(sim, i, member_event_kind::left, "node-3") == 1);
        CHECK(count_events(sim, i, member_event_kind::failed, "node-3") == 0);
        CHECK(count_events(sim, i, member_event_kind::suspect, "node-3") == 0);
    }
    SECTION("reaped after reap_after") {
        sim.run_for(2s);
        for (std::size_t i = 0; i < 3; ++i) {
            CHECK_FALSE(sim.status(i, "node-3"));
            CHECK(sim.state(i).members().size() == 3);
        }
    }
}

TEST_CASE("swim_state: a restarted node wins over its old incarnation", "[membership]") {
    sim_network sim(test_config(), 7);
    start_cluster(sim, 4);
    sim.kill(3);
    REQUIRE(sim.run_until([&] { return sim.all_see("node-3", member_status::failed); }, 10s));
    sim.restart(3, 1, {0});
    REQUIRE(sim.run_until([&] { return sim.converged(); }, 3s));
    const auto seen = sim.state(1).find("node-3");
    REQUIRE(seen);
    CHECK(seen->incarnation >= membership::make_incarnation(1, 0));
    CHECK(count_events(sim, 1, member_event_kind::recovered, "node-3") == 1);
    SECTION("restarting before anyone noticed is an incarnation bump, not a failure") {
        sim.kill(2);
        sim.restart(2, 2, {0});
        sim.run_for(10s);
        CHECK(sim.converged());
        CHECK(count_events_everywhere(sim, member_event_kind::failed, "node-2") == 0);
    }
}

TEST_CASE("swim_state: tag changes propagate with a higher incarnation", "[membership]") {
    sim_network sim(test_config(), 8);
    start_cluster(sim, 6);
    const auto inc = sim.state(5).self().incarnation;
    sim.set_tags(5, {{"role", "worker"}, {"label", "worker-a"}});
    CHECK(sim.state(5).self().incarnation == inc + 1);
    REQUIRE(sim.run_until(
        [&] {
            for (std::size_t i = 0; i < 5; ++i) {
                auto m = sim.state(i).find("node-5");
                if (!m || m->tags.count("label") == 0 || m->tags.at("label") != "worker-a") {
                    return false;
                }
            }
            return true;
        },
        2s));
    CHECK(count_events(sim, 0, member_event_kind::updated, "node-5") == 1);
}

TEST_CASE("swim_state: a member that cannot send raises its local health multiplier",
          "[membership]") {
    sim_network sim(test_config(), 13);
    start_cluster(sim, 5);
    for (std::size_t j = 1; j < 5; ++j) {
        sim.set_link_loss(0, j, 1.0);  // node-0 hears everyone, nobody hears node-0
    }
    sim.run_for(3s);
    // Its probes fail and no nacks come back: it slows its own probing down (Lifeguard LHM)
    // instead of accusing healthy peers at full rate.
    CHECK(sim.state(0).health_score() > 0);
    for (std::size_t j = 1; j < 5; ++j) {
        CHECK(sim.state(j).health_score() == 0);
    }
}
