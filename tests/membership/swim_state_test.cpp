// swim_state scenarios in virtual time: small clusters in sim_network, and single-state
// harnesses for the timer maths that need exact control over who says what.
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

} // namespace

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

TEST_CASE("swim_state: phi crossing triggers an out-of-turn probe", "[membership]") {
    // Two members so two datagrams from the round-robin probe cannot be mistaken for it: the
    // probe interval is long (10 s) and only phi can make the state ping b within a second.
    auto config = test_config();
    config.probe_interval = 10s;
    config.probe_timeout = 1s;
    config.phi_max_samples = 10;  // forget the seeded first-heartbeat estimate quickly
    common::rng rng(9);
    const auto t0 = common::time_point{} + 100s;
    membership::swim_state s(config, "a", {"h", 1}, {}, rng, t0);
    s.seed_members({{"b", {"h", 2}, 0, member_status::alive, {}},
                    {"c", {"h", 3}, 0, member_status::alive, {}}},
                   t0);
    // b pings us every 100 ms for two seconds (any datagram from b is a heartbeat).
    std::uint32_t seq = 1;
    auto ping_from_b = [&](common::time_point at) {
        const std::vector<membership::wire::message> m{membership::wire::ping_msg{seq++, "a"}};
        return s.on_datagram({"h", 2}, membership::wire::encode_packet("b", m), at);
    };
    for (int i = 0; i < 20; ++i) {
        CHECK(ping_from_b(t0 + std::chrono::milliseconds{100 * i}).size() == 1);  // our ack
    }
    const auto last = t0 + 1900ms;
    const auto probes_before = s.counters().probes;
    // b goes quiet. Tick every 10 ms and look for a ping to b.
    std::optional<common::time_point> pinged;
    for (auto t = last; t < last + 3s && !pinged; t += 10ms) {
        for (const auto& o : s.on_tick(t)) {
            auto p = membership::wire::decode_packet(o.payload);
            if (o.to == common::endpoint{"h", 2} && p.has_value() &&
                std::holds_alternative<membership::wire::ping_msg>(p->messages.front())) {
                pinged = t;
            }
        }
    }
    REQUIRE(pinged);
    CHECK(*pinged - last < 1s);  // phi = 8 about 5 std deviations (>= 100 ms) after the mean
    CHECK(*pinged - last > 300ms);
    CHECK(s.counters().phi_probes == 1);
    CHECK(s.counters().probes >= probes_before + 1);
}

TEST_CASE("swim_state: probe_now pings a member at once", "[membership]") {
    auto config = test_config();
    config.probe_interval = 10s;
    common::rng rng(10);
    const auto t0 = common::time_point{} + 100s;
    membership::swim_state s(config, "a", {"h", 1}, {}, rng, t0);
    s.seed_members({{"b", {"h", 2}, 0, member_status::alive, {}}}, t0);
    auto out = s.probe_now("b", t0 + 1ms);
    REQUIRE(out.size() == 1);
    CHECK(out[0].to == common::endpoint{"h", 2});
    CHECK(s.counters().requested_probes == 1);
    CHECK(s.probe_now("b", t0 + 2ms).empty());        // already probing
    CHECK(s.probe_now("nobody", t0 + 2ms).empty());   // unknown
}

TEST_CASE("swim_state: malformed and truncated datagrams are dropped and counted",
          "[membership]") {
    common::rng rng(11);
    const auto t0 = common::time_point{} + 100s;
    membership::swim_state s(test_config(), "a", {"h", 1}, {}, rng, t0);
    const std::vector<membership::wire::message> m{membership::wire::ping_msg{1, "a"}};
    const auto good = membership::wire::encode_packet("b", m);
    for (std::size_t n = 0; n < good.size(); ++n) {
        std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
        CHECK(s.on_datagram({"h", 2}, cut, t0).empty());
    }
    CHECK(s.counters().datagrams_rejected == good.size());
    std::vector<std::uint8_t> garbage(2000, 0xff);
    CHECK(s.on_datagram({"h", 2}, garbage, t0).empty());
    CHECK(s.counters().datagrams_rejected == good.size() + 1);
    SECTION("a ping for another name gets no ack") {
        const std::vector<membership::wire::message> other{membership::wire::ping_msg{1, "z"}};
        CHECK(s.on_datagram({"h", 2}, membership::wire::encode_packet("b", other), t0).empty());
        CHECK(s.counters().misdirected == 1);
    }
    SECTION("a valid ping is answered") {
        CHECK(s.on_datagram({"h", 2}, good, t0).size() == 1);
    }
    SECTION("failed to open (reported by the shell)") {
        s.note_rejected();
        CHECK(s.counters().datagrams_rejected == good.size() + 2);
    }
}

namespace {

// One swim_state whose nine peers answer every ping at once; the test decides who suspects whom.
struct answering_harness {
    common::rng rng{12};
    common::time_point t0 = common::time_point{} + 100s;
    common::time_point now = t0;
    membership::swim_state s;

    answering_harness() : s(test_config(), "a", {"h", 1}, {}, rng, t0) {
        std::vector<membership::member> peers;
        for (std::uint16_t i = 2; i <= 10; ++i) {
            peers.push_back({std::string(1, static_cast<char>('a' + i - 1)), {"h", i}, 0,
                             member_status::alive, {}});
        }
        s.seed_members(peers, t0);  // b..j
    }

    void answer(const std::vector<membership::outbound>& out) {
        for (const auto& o : out) {
            auto p = membership::wire::decode_packet(o.payload);
            REQUIRE(p.has_value());
            for (const auto& m : p->messages) {
                if (const auto* ping = std::get_if<membership::wire::ping_msg>(&m)) {
                    const std::vector<membership::wire::message> ack{
                        membership::wire::ack_msg{ping->seq}};
                    s.on_datagram(o.to, membership::wire::encode_packet(ping->target, ack), now);
                }
            }
        }
    }

    void suspect_from(const std::string& from, const std::string& about) {
        const std::vector<membership::wire::message> m{membership::wire::suspect_msg{about, 0, from}};
        const auto sender = s.find(from);
        answer(s.on_datagram(sender->addr, membership::wire::encode_packet(from, m), now));
    }

    // Ticks in 10 ms steps until `name` is failed; returns how long that took.
    common::duration time_to_failed(const std::string& name, common::duration limit) {
        const auto start = now;
        while (now - start < limit) {
            now += 10ms;
            answer(s.on_tick(now));
            if (s.find(name)->status == member_status::failed) {
                break;
            }
        }
        return now - start;
    }
};

} // namespace

TEST_CASE("swim_state: independent confirmations shrink the suspicion timeout", "[membership]") {
    // 10 members: K = suspicion_mult - 2 = 2, min = 4 * log10(10) * 200 ms = 800 ms, max = 4.8 s.
    answering_harness h;
    h.now += 1s;
    h.answer(h.s.on_tick(h.now));
    SECTION("one accuser: the full 4.8 s") {
        h.suspect_from("b", "j");
        REQUIRE(h.s.find("j")->status == member_status::suspect);
        const auto took = h.time_to_failed("j", 10s);
        CHECK(took >= 4790ms);
        CHECK(took <= 4810ms);
    }
    SECTION("one confirmation: 4.8 s - 4 s * log 2 / log 3 = 2.28 s") {
        h.suspect_from("b", "j");
        h.suspect_from("c", "j");
        const auto took = h.time_to_failed("j", 10s);
        CHECK(took >= 2270ms);
        CHECK(took <= 2290ms);
    }
    SECTION("two confirmations: the 800 ms minimum") {
        h.suspect_from("b", "j");
        h.suspect_from("c", "j");
        h.suspect_from("c", "j");  // repeats do not count
        h.suspect_from("d", "j");
        const auto took = h.time_to_failed("j", 10s);
        CHECK(took >= 790ms);
        CHECK(took <= 810ms);
    }
    CHECK(h.s.counters().failures_declared == 1);
    const auto events = h.s.drain_events();
    CHECK(std::count_if(events.begin(), events.end(), [](const auto& e) {
              return e.kind == member_event_kind::failed && e.snapshot.name == "j";
          }) == 1);
}
