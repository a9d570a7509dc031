#include "balance/worker_registry.hpp"

#include "balance/least_connections.hpp"
#include "balance/round_robin.hpp"
#include "balance/scripted_rng.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <vector>

using namespace std::chrono_literals;
using rpcnetd::errc;
using rpcnetd::balance::assignment;
using rpcnetd::balance::lease_id;
using rpcnetd::balance::make_balancer;
using rpcnetd::balance::member_snapshot;
using rpcnetd::balance::member_state;
using rpcnetd::balance::random_source;
using rpcnetd::balance::registry_config;
using rpcnetd::balance::release_result;
using rpcnetd::balance::tag_filter;
using rpcnetd::balance::worker_registry;
using rpcnetd::common::time_point;
using rpcnetd::test::scripted_rng;

namespace {

const time_point t0 = time_point{} + 1h;

member_snapshot worker(const std::string& name, std::uint16_t port,
                       std::optional<std::uint32_t> streams = std::nullopt,
                       std::uint64_t incarnation = 1) {
    member_snapshot m;
    m.name = name;
    m.rpc_addr = {"127.0.0.1", port};
    m.incarnation = incarnation;
    m.tags = {{"role", "worker"}, {"label", "label-" + name}};
    m.active_streams = streams;
    return m;
}

worker_registry make(const char* strategy = "least-connections", registry_config c = {}) {
    return worker_registry(make_balancer(strategy), c);
}

assignment must_assign(worker_registry& r, random_source& s, time_point now,
                       const tag_filter& f = {}, std::vector<std::string> exclude = {}) {
    auto a = r.assign(f, exclude, now, s);
    REQUIRE(std::holds_alternative<assignment>(a));
    return std::get<assignment>(a);
}

assignment must_assign(worker_registry& r, rpcnetd::common::rng& g, time_point now) {
    random_source s(g);
    return must_assign(r, s, now);
}

// Workers w1, w2, w3 at t0, each reporting `streams` running streams.
void three_workers(worker_registry& r, std::uint32_t streams) {
    for (int i = 1; i <= 3; ++i) {
        r.update(worker("w" + std::to_string(i), static_cast<std::uint16_t>(62000 + i), streams, 1),
                 t0);
    }
}

bool no_workers(worker_registry& r, time_point now, const tag_filter& f = {},
                std::vector<std::string> exclude = {}) {
    rpcnetd::common::rng g(1);
    auto a = r.assign(f, exclude, now, g);
    return std::holds_alternative<errc>(a) && std::get<errc>(a) == errc::no_workers;
}

}  // namespace

TEST_CASE("worker_registry: the pool is the alive and suspect role=worker members", "[balance]") {
    auto r = make();
    member_snapshot director = worker("director", 61000);
    director.tags = {{"role", "director"}};
    r.update(director, t0);
    r.update(worker("w1", 62001), t0);
    r.update(worker("w2", 62002), t0);
    auto suspect = worker("w3", 62003);
    suspect.state = member_state::suspect;
    r.update(suspect, t0);

    const auto pool = r.pool(t0);
    REQUIRE(pool.size() == 3);
    CHECK(pool[0].name == "w1");
    CHECK(pool[0].label == "label-w1");
    CHECK(pool[0].rpc_addr == rpcnetd::common::endpoint{"127.0.0.1", 62001});
    CHECK(pool[0].assignable);
    CHECK(pool[2].state == member_state::suspect);
    CHECK_FALSE(pool[2].assignable);
    CHECK(r.assignable_count(t0) == 2);

    SECTION("failed and left members leave the pool") {
        auto failed = worker("w1", 62001);
        failed.state = member_state::failed;
        r.update(failed, t0 + 1s);
        auto left = worker("w2", 62002);
        left.state = member_state::left;
        r.update(left, t0 + 1s);
        CHECK(r.pool(t0 + 1s).size() == 1);
        CHECK(no_workers(r, t0 + 1s));  // only the suspect is left
    }
    SECTION("a member that drops the worker role leaves the pool") {
        auto w = worker("w1", 62001);
        w.tags.erase("role");
        r.update(w, t0 + 1s);
        CHECK(r.pool(t0 + 1s).size() == 2);
    }
    SECTION("sync removes members missing from the view") {
        const std::vector<member_snapshot> view{worker("w2", 62002)};
        r.sync(view, t0 + 1s);
        const auto p = r.pool(t0 + 1s);
        REQUIRE(p.size() == 1);
        CHECK(p[0].name == "w2");
    }
}

TEST_CASE("worker_registry: no_workers when nothing qualifies", "[balance]") {
    auto r = make();
    CHECK(no_workers(r, t0));
    r.update(worker("w1", 62001), t0);
    CHECK_FALSE(no_workers(r, t0));
    CHECK(no_workers(r, t0, {}, {"w1"}));
    CHECK(no_workers(r, t0, tag_filter::parse_or_throw("gpu=a100")));
    r.mark_unhealthy("w1", t0);
    CHECK(no_workers(r, t0));
    CHECK(r.lease_count() == 1);  // only the one successful assignment made a lease
}

TEST_CASE("worker_registry: exact picks from a scripted rng", "[balance]") {
    auto r = make();
    r.update(worker("w1", 62001), t0);
    r.update(worker("w2", 62002), t0);
    r.update(worker("w3", 62003), t0);
    // All at 0: a 3-way tie, draw 1 -> w2. Then w1,w3 tie at 0: draw 1 -> w3. Then w1 alone at 0:
    // no draw. Then all at 1: draw 5 -> 5 % 3 = 2 -> w3.
    scripted_rng g({1, 1, 5});
    random_source s(g);
    const auto a1 = must_assign(r, s, t0);
    CHECK(a1.worker == "w2");
    CHECK(a1.label == "label-w2");
    CHECK(a1.rpc_addr.port == 62002);
    CHECK(must_assign(r, s, t0).worker == "w3");
    CHECK(must_assign(r, s, t0).worker == "w1");
    CHECK(must_assign(r, s, t0).worker == "w3");
    CHECK(g.exhausted());
    CHECK(r.connections("w3", t0) == 2u);
}

TEST_CASE("worker_registry: filters and exclusions narrow the candidates", "[balance]") {
    auto r = make("round-robin");
    auto gpu = worker("w1", 62001);
    gpu.tags["gpu"] = "a100";
    r.update(gpu, t0);
    r.update(worker("w2", 62002), t0);
    r.update(worker("w3", 62003), t0);
    scripted_rng none({});
    random_source s(none);
    const auto gpu_only = tag_filter::parse_or_throw("gpu=a100");
    for (int i = 0; i < 3; ++i) {
        CHECK(must_assign(r, s, t0, gpu_only).worker == "w1");
    }
    CHECK(must_assign(r, s, t0, {}, {"w2"}).worker == "w3");
    CHECK(must_assign(r, s, t0, {}, {"w1", "w3"}).worker == "w2");
    CHECK(must_assign(r, s, t0, tag_filter::parse_or_throw("label=label-w3")).worker == "w3");
    CHECK(no_workers(r, t0, gpu_only, {"w1"}));
}

TEST_CASE("worker_registry: leases count until released", "[balance]") {
    auto r = make("least-connections", {.lease_timeout = 10s});
    r.update(worker("w1", 62001), t0);
    rpcnetd::common::rng g(3);
    const auto a = must_assign(r, g, t0);
    const auto b = must_assign(r, g, t0);
    CHECK(a.lease);
    CHECK(b.lease);
    CHECK(a.lease != b.lease);
    CHECK(r.connections("w1", t0) == 2u);
    CHECK(r.release(a.lease) == release_result::released);
    CHECK(r.connections("w1", t0) == 1u);
    CHECK(r.release(a.lease) == release_result::unknown);    // twice
    CHECK(r.release({0, 9999}) == release_result::unknown);  // never issued
    CHECK(r.release(lease_id{}) == release_result::unknown);

    SECTION("the RAII handle releases on scope exit, and detach() keeps the lease") {
        {
            worker_registry::lease held(r, b.lease);
            CHECK(held);
            CHECK(r.connections("w1", t0) == 1u);
        }
        CHECK(r.connections("w1", t0) == 0u);
        const auto c = must_assign(r, g, t0);
        worker_registry::lease moved;
        {
            worker_registry::lease held(r, c.lease);
            moved = std::move(held);
        }
        CHECK(r.connections("w1", t0) == 1u);
        CHECK(moved.detach() == c.lease);
        CHECK(r.connections("w1", t0) == 1u);
        CHECK(r.release(c.lease) == release_result::released);
    }
    SECTION("a worker that never reports keeps counting unreleased leases past the timeout") {
        CHECK(r.connections("w1", t0 + 1h) == 1u);
        r.expire(t0 + 1h);
        CHECK(r.release(b.lease) == release_result::released);
    }
    SECTION("leases of a worker that fails are dropped") {
        auto failed = worker("w1", 62001);
        failed.state = member_state::failed;
        r.update(failed, t0 + 1s);
        CHECK(r.lease_count() == 0);
        CHECK(r.release(b.lease) == release_result::unknown);
    }
}

TEST_CASE("worker_registry: a lease belongs to its owner, and its id is 128 injected bits",
          "[balance]") {
    std::vector<std::uint64_t> bits{0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0, 0, 0, 7};
    std::size_t next = 0;
    auto r =
        worker_registry(make_balancer("least-connections"), {}, [&] { return bits.at(next++); });
    r.update(worker("w1", 62001), t0);
    rpcnetd::common::rng g(5);
    random_source s(g);
    const auto a = r.assign({}, {}, t0, s, "conn:1");
    REQUIRE(std::holds_alternative<assignment>(a));
    const auto id = std::get<assignment>(a).lease;
    CHECK(id == lease_id{0x0123456789abcdefULL, 0xfedcba9876543210ULL});
    CHECK(lease_id::from_bytes(id.to_bytes()) == id);
    CHECK(id.to_bytes().size() == 16);
    CHECK_FALSE(lease_id::from_bytes("short"));
    // The all-zero id means "no lease": drawn again.
    const auto b = r.assign({}, {}, t0, s, "conn:2");
    REQUIRE(std::holds_alternative<assignment>(b));
    CHECK(std::get<assignment>(b).lease == lease_id{0, 7});
    CHECK(next == 6);

    CHECK(r.owner_of(id) == "conn:1");
    CHECK(r.release(id, "conn:2") == release_result::not_owner);
    CHECK(r.release(id) == release_result::not_owner);
    CHECK(r.connections("w1", t0) == 2u);  // a refused release leaves the lease counting
    CHECK(r.release(id, "conn:1") == release_result::released);
    CHECK(r.release(id, "conn:1") == release_result::unknown);
    CHECK(r.connections("w1", t0) == 1u);
    { worker_registry::lease held(r, std::get<assignment>(b).lease, "conn:2"); }
    CHECK(r.connections("w1", t0) == 0u);
}

TEST_CASE("worker_registry: reports reconcile leases of vanished clients", "[balance]") {
    auto r = make("least-connections", {.report_grace = 1s, .lease_timeout = 10s});
    r.update(worker("w1", 62001, 0u, 1), t0);
    rpcnetd::common::rng g(5);
    for (int i = 0; i < 3; ++i) {
        must_assign(r, g, t0 + 100ms);
    }
    CHECK(r.connections("w1", t0 + 100ms) == 3u);  // report 0, 3 live leases

    // A report that may predate the new streams does not lower the count.
    r.update(worker("w1", 62001, 2u, 2), t0 + 500ms);
    CHECK(r.connections("w1", t0 + 500ms) == 3u);
    auto p = r.pool(t0 + 500ms);
    CHECK(p[0].reported == 2u);
    CHECK(p[0].pending == 1u);

    SECTION("a report made well after the leases drops the vanished client's lease") {
        r.update(worker("w1", 62001, 2u, 3), t0 + 1500ms);
        CHECK(r.connections("w1", t0 + 1500ms) == 2u);
        CHECK(r.lease_count() == 2u);
        // A new assignment counts on top until a report includes it.
        must_assign(r, g, t0 + 1600ms);
        CHECK(r.connections("w1", t0 + 1600ms) == 3u);
    }
    SECTION("clients that die silently: the report falls to 0, and so does the count") {
        r.update(worker("w1", 62001, 0u, 3), t0 + 2s);
        CHECK(r.connections("w1", t0 + 2s) == 0u);
        CHECK(r.lease_count() == 0u);
    }
    SECTION("the same snapshot fed again is not a new report") {
        r.update(worker("w1", 62001, 2u, 2), t0 + 3s);
        CHECK(r.connections("w1", t0 + 3s) == 3u);
    }
    SECTION("a lease beyond an unchanging report gives way after lease_timeout") {
        r.expire(t0 + 9s);
        CHECK(r.connections("w1", t0 + 9s) == 3u);
        r.expire(t0 + 100ms + 10s);
        CHECK(r.connections("w1", t0 + 100ms + 10s) == 2u);
    }
    SECTION("a count given as the active_streams tag works like the field") {
        auto tagged = worker("w1", 62001, std::nullopt, 4);
        tagged.tags["active_streams"] = "7";
        r.update(tagged, t0 + 3s);
        CHECK(r.connections("w1", t0 + 3s) == 7u);
    }
}

TEST_CASE("worker_registry: direct observations reconcile even when the count is unchanged",
          "[balance]") {
    auto r = make("least-connections", {.report_grace = 1s});
    r.update(worker("w1", 62001, 0u, 1), t0);
    rpcnetd::common::rng g(3);
    must_assign(r, g, t0 + 100ms);
    must_assign(r, g, t0 + 100ms);
    // The streams started and ended between two gossip reports: gossip still says 0.
    r.update(worker("w1", 62001, 0u, 1), t0 + 3s);
    CHECK(r.connections("w1", t0 + 3s) == 2u);
    // The health check asks the worker itself.
    CHECK(r.observe_streams("w1", 0, t0 + 500ms));
    CHECK(r.connections("w1", t0 + 500ms) == 2u);  // too soon after the leases to trust
    CHECK(r.observe_streams("w1", 0, t0 + 1200ms));
    CHECK(r.connections("w1", t0 + 1200ms) == 0u);
    CHECK_FALSE(r.observe_streams("nobody", 0, t0));
}

TEST_CASE("worker_registry: a report counts the old streams, leases made since stay pending",
          "[balance]") {
    auto r = make("least-connections", {.report_grace = 1s, .lease_timeout = 10s});
    r.update(worker("w1", 62001, 0u, 1), t0);
    rpcnetd::common::rng g(4);
    must_assign(r, g, t0);
    CHECK(r.observe_streams("w1", 1, t0 + 2s));  // its stream runs
    // Two more clients, long after the first: a health check answers before they connect.
    must_assign(r, g, t0 + 6s);
    must_assign(r, g, t0 + 6s);
    CHECK(r.observe_streams("w1", 1, t0 + 6100ms));
    CHECK(r.connections("w1", t0 + 6100ms) == 3u);  // 1 running + 2 connecting, not 2
    CHECK(r.lease_count() == 3u);

    SECTION("once the new leases are old enough to be in a report, a report of 1 drops them") {
        CHECK(r.observe_streams("w1", 1, t0 + 7100ms));
        CHECK(r.connections("w1", t0 + 7100ms) == 1u);
        CHECK(r.lease_count() == 1u);
    }
    SECTION("their streams start: the count follows the report") {
        CHECK(r.observe_streams("w1", 3, t0 + 7100ms));
        CHECK(r.connections("w1", t0 + 7100ms) == 3u);
        CHECK(r.lease_count() == 3u);
    }
    SECTION("the backstop waits for the first unreported lease, not the oldest") {
        // The report is never renewed: at +10 s only the first lease has timed out, and the
        // report of 1 accounts for it.
        r.expire(t0 + 10500ms);
        CHECK(r.connections("w1", t0 + 10500ms) == 3u);
        r.expire(t0 + 16s);
        CHECK(r.connections("w1", t0 + 16s) == 1u);
    }
}

TEST_CASE("worker_registry: waves of clients over 3 workers stay within +-1 while reports arrive",
          "[balance]") {
    // The integration test's shape: waves of 5 clients, each wave streaming before the next, and
    // every worker observed (a health check) between and during the waves, seconds apart.
    auto r = make("least-connections", {.report_grace = 1s, .lease_timeout = 10s});
    three_workers(r, 0u);
    rpcnetd::common::rng g(11);
    std::map<std::string, std::uint32_t> running;
    auto now = t0;
    for (int wave = 0; wave < 6; ++wave) {
        std::vector<std::string> picked;
        for (int i = 0; i < 5; ++i) {
            picked.push_back(must_assign(r, g, now).worker);
            now += 10ms;
            // Health checks answer while this wave's clients are still connecting.
            for (const auto& [name, n] : running) {
                r.observe_streams(name, n, now);
            }
        }
        now += 3s;  // the wave's streams start
        for (const auto& w : picked) {
            ++running[w];
        }
        for (const auto& [name, n] : running) {
            r.observe_streams(name, n, now);
        }
        std::uint32_t lo = 100;
        std::uint32_t hi = 0;
        for (int i = 1; i <= 3; ++i) {
            const auto n = running["w" + std::to_string(i)];
            lo = std::min(lo, n);
            hi = std::max(hi, n);
        }
        CHECK(hi - lo <= 1);
    }
    CHECK(running["w1"] == 10);
    CHECK(running["w2"] == 10);
    CHECK(running["w3"] == 10);
}

TEST_CASE("worker_registry: with other directors' streams in the reports, new leases count on top",
          "[balance]") {
    // Each worker runs 4 streams another director assigned: this registry holds no lease.
    auto r = make("least-connections", {.report_grace = 1s, .lease_timeout = 10s});
    three_workers(r, 4u);
    rpcnetd::common::rng g(7);
    std::map<std::string, int> per;
    for (int i = 0; i < 6; ++i) {
        ++per[must_assign(r, g, t0 + 100ms + std::chrono::milliseconds(10 * i)).worker];
    }
    CHECK(per["w1"] == 2);
    CHECK(per["w2"] == 2);
    CHECK(per["w3"] == 2);
    // A health check before those clients connect: the report does not hold them yet.
    CHECK(r.observe_streams("w1", 4, t0 + 300ms));
    CHECK(r.connections("w1", t0 + 300ms) == 6u);
    // They connected, and the other director's clients grew too: 4 + 2 + 3. Our two leases are
    // recent enough to count again (a director prefers the workers it did not just pick)...
    CHECK(r.observe_streams("w1", 9, t0 + 600ms));
    CHECK(r.connections("w1", t0 + 600ms) == 11u);
    // ...until a report made report_grace after them, which holds them.
    CHECK(r.observe_streams("w1", 9, t0 + 1500ms));
    CHECK(r.connections("w1", t0 + 1500ms) == 9u);
    CHECK(r.lease_count() == 6u);  // nothing proves those clients gone
}

TEST_CASE("worker_registry: a gossiped count does not set back a fresher health check",
          "[balance]") {
    auto r = make("least-connections", {.report_grace = 1s, .observation_wins = 500ms});
    r.update(worker("w1", 62001, 0u, 1), t0);
    CHECK(r.observe_streams("w1", 7, t0 + 1s));  // streams another director assigned
    // Gossip from before the check arrives just after it.
    r.update(worker("w1", 62001, 5u, 2), t0 + 1100ms);
    CHECK(r.connections("w1", t0 + 1100ms) == 7u);
    CHECK(r.pool(t0 + 1100ms)[0].reported == 7u);
    // Long after the last check (an idle worker is checked rarely), gossip counts again.
    r.update(worker("w1", 62001, 3u, 3), t0 + 1600ms);
    CHECK(r.connections("w1", t0 + 1600ms) == 3u);
}

TEST_CASE("worker_registry: a burst of assignments is not skewed by a stale report", "[balance]") {
    auto r = make("least-connections", {.report_grace = 1s});
    three_workers(r, 0u);
    rpcnetd::common::rng g(9);
    std::map<std::string, int> per;
    for (int i = 0; i < 30; ++i) {
        const auto a = must_assign(r, g, t0 + std::chrono::milliseconds(10 * i));
        ++per[a.worker];
        // Mid-burst, w1 reports only the streams that had started 50 ms earlier.
        if (i == 15) {
            r.update(worker("w1", 62001, static_cast<std::uint32_t>(per["w1"] - 2), 2),
                     t0 + std::chrono::milliseconds(10 * i));
        }
    }
    CHECK(per["w1"] == 10);
    CHECK(per["w2"] == 10);
    CHECK(per["w3"] == 10);
}

TEST_CASE("worker_registry: unhealthy workers are skipped at once", "[balance]") {
    auto r = make();
    r.update(worker("w1", 62001), t0);
    r.update(worker("w2", 62002), t0);
    rpcnetd::common::rng g(11);
    CHECK(r.mark_unhealthy("w1", t0));
    CHECK_FALSE(r.mark_unhealthy("nobody", t0));
    for (int i = 0; i < 10; ++i) {
        CHECK(must_assign(r, g, t0).worker == "w2");
    }
    CHECK_FALSE(r.pool(t0)[0].healthy);
    CHECK(r.assignable_count(t0) == 1);

    SECTION("mark_healthy restores it") {
        CHECK(r.mark_healthy("w1"));
        CHECK(must_assign(r, g, t0).worker == "w1");  // 0 vs 10 connections
    }
    SECTION("a gossip update while still alive does not clear the mark") {
        r.update(worker("w1", 62001, std::nullopt, 2), t0 + 1s);
        CHECK(must_assign(r, g, t0 + 1s).worker == "w2");
    }
    SECTION("recovery through suspect -> alive clears the mark") {
        auto s = worker("w1", 62001, std::nullopt, 2);
        s.state = member_state::suspect;
        r.update(s, t0 + 1s);
        r.update(worker("w1", 62001, std::nullopt, 3), t0 + 2s);
        CHECK(must_assign(r, g, t0 + 2s).worker == "w1");
    }
    SECTION("failed then rejoined comes back healthy") {
        auto f = worker("w1", 62001, std::nullopt, 2);
        f.state = member_state::failed;
        r.update(f, t0 + 1s);
        r.update(worker("w1", 62001, std::nullopt, 3), t0 + 6s);
        CHECK(must_assign(r, g, t0 + 6s).worker == "w1");
    }
}

TEST_CASE("worker_registry: 30 concurrent clients over 3 workers stay within +-1", "[balance]") {
    auto r = make();
    for (std::uint16_t i = 1; i <= 3; ++i) {
        r.update(worker("w" + std::to_string(i), static_cast<std::uint16_t>(62000 + i)), t0);
    }
    rpcnetd::common::rng g(30);
    std::map<std::string, std::vector<lease_id>> held;
    const auto spread = [&](time_point now) {
        std::vector<std::uint32_t> c;
        for (const auto& e : r.pool(now)) {
            c.push_back(e.connections);
        }
        return *std::max_element(c.begin(), c.end()) - *std::min_element(c.begin(), c.end());
    };
    for (int i = 0; i < 30; ++i) {
        const auto a = must_assign(r, g, t0);
        held[a.worker].push_back(a.lease);
        CHECK(spread(t0) <= 1);
    }
    for (const auto& e : r.pool(t0)) {
        CHECK(e.connections == 10);
    }

    SECTION("churn: clients finish and new ones arrive, counts stay balanced") {
        // Release a random client and assign a new one, 300 times: each new client goes to a
        // least-loaded worker, so the spread never exceeds 2 and is back to <= 1 after assigning.
        for (int step = 0; step < 300; ++step) {
            auto& victims = held[std::string("w") + std::to_string(1 + g() % 3)];
            if (!victims.empty()) {
                CHECK(r.release(victims.back()) == release_result::released);
                victims.pop_back();
            }
            const auto a = must_assign(r, g, t0);
            held[a.worker].push_back(a.lease);
            CHECK(spread(t0) <= 1);
        }
    }
}

TEST_CASE("worker_registry: a worker at its capacity tag is full until a stream ends",
          "[balance]") {
    auto r = make();
    auto w1 = worker("w1", 62001);
    w1.tags["capacity"] = "2";
    r.update(w1, t0);
    rpcnetd::common::rng g(5);
    const auto a = must_assign(r, g, t0);
    must_assign(r, g, t0);
    CHECK(r.pool(t0)[0].capacity == 2U);
    CHECK(r.pool(t0)[0].full);
    CHECK_FALSE(r.pool(t0)[0].assignable);
    CHECK(r.assignable_count(t0) == 0);
    CHECK(no_workers(r, t0));

    SECTION("a release frees a slot") {
        CHECK(r.release(a.lease) == release_result::released);
        CHECK(r.assignable_count(t0) == 1);
        CHECK(must_assign(r, g, t0).worker == "w1");
    }
    SECTION("another worker without a capacity tag takes the rest") {
        r.update(worker("w2", 62002), t0);
        for (int i = 0; i < 5; ++i) {
            CHECK(must_assign(r, g, t0).worker == "w2");
        }
    }
    SECTION("capacity 0 or a malformed tag means no limit") {
        for (const char* v : {"0", "x", ""}) {
            auto w = worker("w1", 62001);
            w.tags["capacity"] = v;
            r.update(w, t0);
            CHECK(r.pool(t0)[0].assignable);
            CHECK_FALSE(r.pool(t0)[0].capacity.has_value());
        }
    }
}

TEST_CASE("worker_registry: check() tells assignable, only full, or none", "[balance]") {
    using rpcnetd::balance::availability;
    auto r = make();
    rpcnetd::common::rng g(1);
    auto a = worker("a", 1);
    a.tags["capacity"] = "1";
    auto b = worker("b", 2);
    b.tags["capacity"] = "1";
    b.tags["gpu"] = "yes";
    r.update(a, t0);
    r.update(b, t0);
    CHECK(r.check({}, {}, t0) == availability::assignable);
    must_assign(r, g, t0);
    must_assign(r, g, t0);
    CHECK(r.check({}, {}, t0) == availability::full);
    CHECK(no_workers(r, t0));
    CHECK(r.check(tag_filter(rpcnetd::balance::tag_map{{"gpu", "no"}}), {}, t0) ==
          availability::none);
    // Unhealthy or excluded workers are not "full": they are not waited for.
    r.mark_unhealthy("a", t0);
    CHECK(r.check({}, std::vector<std::string>{"b"}, t0) == availability::none);
}

TEST_CASE("worker_registry: a draining worker keeps its leases but is not assigned", "[balance]") {
    auto r = make();
    rpcnetd::common::rng g(2);
    r.update(worker("a", 1, 0), t0);
    r.update(worker("b", 2, 0), t0);
    auto b = worker("b", 2, 0, 2);
    b.tags["draining"] = "true";
    r.update(b, t0);
    for (int i = 0; i < 5; ++i) {
        CHECK(must_assign(r, g, t0).worker == "a");
    }
    const auto rows = r.pool(t0);
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].draining);
    CHECK_FALSE(rows[1].assignable);
    CHECK(r.assignable_count(t0) == 1);
    b.incarnation = 3;
    b.tags["draining"] = "false";  // undrain
    r.update(b, t0);
    CHECK(r.assignable_count(t0) == 2);
}

TEST_CASE("worker_registry: rpc_addr_of follows a name to its new address", "[balance]") {
    auto r = make();
    CHECK_FALSE(r.rpc_addr_of("w1").has_value());
    r.update(worker("w1", 62001), t0);
    CHECK(r.rpc_addr_of("w1") == rpcnetd::common::endpoint{"127.0.0.1", 62001});
    r.update(worker("w1", 62009, std::nullopt, 2), t0);
    CHECK(r.rpc_addr_of("w1") == rpcnetd::common::endpoint{"127.0.0.1", 62009});
    r.remove("w1");
    CHECK_FALSE(r.rpc_addr_of("w1").has_value());
}

// The indexed pick (no filter, no exclusion: O(log n)) must decide exactly as the pick over the
// full candidate list. Two registries see the same random sequence of joins, reports, health
// changes, assignments, releases and time; one is always asked without a filter (indexed), the
// other with role=worker, which every worker matches (the list). Same draws, same picks.
TEST_CASE("worker_registry: the indexed pick equals the list pick on random sequences",
          "[balance]") {
    const tag_filter everyone(rpcnetd::balance::tag_map{{"role", "worker"}});
    for (const char* strategy :
         {"least-connections", "power-of-two", "round-robin", "random", "affinity"}) {
        for (std::uint64_t seed = 1; seed <= 4; ++seed) {
            INFO("strategy=" << strategy << " seed=" << seed);
            const registry_config cfg{.report_grace = 1s, .lease_timeout = 3s};
            auto indexed = make(strategy, cfg);
            auto listed = make(strategy, cfg);
            rpcnetd::common::rng script(seed);
            rpcnetd::common::rng draws_a(seed * 31);
            rpcnetd::common::rng draws_b(seed * 31);
            time_point now = t0;
            std::vector<lease_id> leases_a;
            std::vector<lease_id> leases_b;
            int assigned = 0;
            for (int step = 0; step < 1500; ++step) {
                const auto op = script() % 10;
                const std::string name = "w" + std::to_string(script() % 24);
                if (op == 0) {  // join, report, capacity or drain change
                    auto m = worker(name, 9000);
                    if (script() % 2 == 0) {
                        m.active_streams = static_cast<std::uint32_t>(script() % 4);
                    }
                    if (script() % 3 == 0) {
                        m.tags["capacity"] = std::to_string(1 + script() % 3);
                    }
                    if (script() % 8 == 0) {
                        m.tags["draining"] = "true";
                    }
                    if (script() % 10 == 0) {
                        m.state = member_state::suspect;
                    }
                    indexed.update(m, now);
                    listed.update(m, now);
                } else if (op == 1) {
                    const bool sick = script() % 2 == 0;
                    CHECK((sick ? indexed.mark_unhealthy(name, now) : indexed.mark_healthy(name)) ==
                          (sick ? listed.mark_unhealthy(name, now) : listed.mark_healthy(name)));
                } else if (op == 2 && script() % 4 == 0) {
                    indexed.remove(name);
                    listed.remove(name);
                } else if (op == 3) {
                    const auto active = static_cast<std::uint32_t>(script() % 3);
                    CHECK(indexed.observe_streams(name, active, now) ==
                          listed.observe_streams(name, active, now));
                } else if (op == 4 && !leases_a.empty()) {
                    const auto k = script() % leases_a.size();
                    CHECK(indexed.release(leases_a[k]) == listed.release(leases_b[k]));
                    leases_a.erase(leases_a.begin() + static_cast<std::ptrdiff_t>(k));
                    leases_b.erase(leases_b.begin() + static_cast<std::ptrdiff_t>(k));
                } else if (op == 5) {
                    now += std::chrono::milliseconds(script() % 1500);
                } else {
                    const std::string key =
                        script() % 2 == 0 ? "" : "key-" + std::to_string(script() % 5);
                    random_source ra(draws_a);
                    random_source rb(draws_b);
                    auto a = indexed.assign({}, {}, now, ra, {}, key);
                    auto b = listed.assign(everyone, {}, now, rb, {}, key);
                    REQUIRE(a.index() == b.index());
                    if (const auto* x = std::get_if<assignment>(&a)) {
                        CHECK(x->worker == std::get<assignment>(b).worker);
                        leases_a.push_back(x->lease);
                        leases_b.push_back(std::get<assignment>(b).lease);
                        ++assigned;
                    }
                }
                REQUIRE(indexed.assignable_count(now) == listed.assignable_count(now));
                REQUIRE(indexed.lease_count() == listed.lease_count());
            }
            // The index holds exactly the assignable workers, at the load pool() reports.
            std::size_t assignable = 0;
            for (const auto& row : indexed.pool(now)) {
                assignable += row.assignable ? 1 : 0;
            }
            CHECK(indexed.assignable_count(now) == assignable);
            CHECK(assigned > 200);
        }
    }
}
