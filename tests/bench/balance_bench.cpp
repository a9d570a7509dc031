// Picks per second of each balancing strategy, and assign+release per second of the worker
// registry, for pools of 3, 30 and 300 workers. Prints numbers only; never fails on timing.
//
//   ./build/balance_bench            one line per (what, strategy, workers), key=value
#include "balance/balancer.hpp"
#include "balance/worker_registry.hpp"
#include "common/random.hpp"
#include "common/time.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using rpcnetd::balance::backend;
using rpcnetd::balance::make_balancer;

constexpr auto measure_for = 200ms;
constexpr const char* strategies[] = {"least-connections", "round-robin", "random"};
constexpr std::size_t pool_sizes[] = {3, 30, 300};

std::vector<std::string> names(std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(fmt::format("worker-{:03}", i));
    }
    return out;
}

struct result {
    std::uint64_t ops = 0;
    double seconds = 0;
};

// Runs op() in batches until measure_for has passed.
template <class Op>
result run(Op&& op) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    result r;
    for (;;) {
        for (int i = 0; i < 1024; ++i) {
            op();
        }
        r.ops += 1024;
        const auto elapsed = clock::now() - start;
        if (elapsed >= measure_for) {
            r.seconds = rpcnetd::common::to_seconds(elapsed);
            return r;
        }
    }
}

void print(const char* what, const char* strategy, std::size_t workers, const result& r,
           std::uint64_t checksum) {
    fmt::print("bench={} strategy={} workers={} ops_per_s={:.0f} ns_per_op={:.1f} checksum={}\n",
               what, strategy, workers, static_cast<double>(r.ops) / r.seconds,
               r.seconds * 1e9 / static_cast<double>(r.ops), checksum);
}

void bench_pick(const char* strategy, std::size_t n) {
    const auto owned = names(n);
    std::vector<backend> pool;
    for (const auto& name : owned) {
        pool.push_back({name, 0});
    }
    auto balancer = make_balancer(strategy);
    rpcnetd::common::rng g(1);
    std::uint64_t checksum = 0;
    std::uint64_t step = 0;
    const auto r = run([&] {
        const auto i = *balancer->pick(pool, g);
        checksum += i;
        // Keep the loads moving like assignments and stream ends do.
        ++pool[i].active;
        if ((++step & 3u) == 0) {
            auto& other = pool[step % n];
            other.active = other.active > 0 ? other.active - 1 : 0;
        }
    });
    print("pick", strategy, n, r, checksum);
}

void bench_registry(const char* strategy, std::size_t n) {
    rpcnetd::balance::worker_registry registry(make_balancer(strategy));
    const auto t0 = rpcnetd::common::time_point{} + 1h;
    const auto owned = names(n);
    for (std::size_t i = 0; i < n; ++i) {
        rpcnetd::balance::member_snapshot m;
        m.name = owned[i];
        m.rpc_addr = {"127.0.0.1", static_cast<std::uint16_t>(62000 + i)};
        m.tags = {{"role", "worker"}, {"label", owned[i]}};
        m.active_streams = 0;
        registry.update(m, t0);
    }
    rpcnetd::common::rng g(1);
    const rpcnetd::balance::tag_filter no_filter;
    std::vector<rpcnetd::balance::lease_id> held;
    std::uint64_t checksum = 0;
    // Steady state: about 2 streams per worker outstanding; each op assigns one and releases the
    // oldest.
    const auto r = run([&] {
        auto a = registry.assign(no_filter, {}, t0, g);
        const auto& got = std::get<rpcnetd::balance::assignment>(a);
        checksum += got.lease.lo;
        held.push_back(got.lease);
        if (held.size() > 2 * n) {
            registry.release(held.front());
            held.erase(held.begin());
        }
    });
    print("registry_assign_release", strategy, n, r, checksum);
}

}  // namespace

int main() {
    for (const auto n : pool_sizes) {
        for (const auto* s : strategies) {
            bench_pick(s, n);
        }
    }
    for (const auto n : pool_sizes) {
        for (const auto* s : strategies) {
            bench_registry(s, n);
        }
    }
    return 0;
}
