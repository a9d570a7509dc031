// Gossip simulator benchmark (DESIGN.md §7): for N in {10, 100, 1000} and datagram loss in
// {0, 5, 10, 25 %}, in virtual time with the default flags (probe 200 ms / timeout 100 ms,
// 3 indirect probes, phi threshold 8): protocol periods and seconds until every member knows of a
// join and of a death (kill -9), false failure declarations, and messages and bytes per member per
// second in steady state. Prints numbers; never fails on them. --quick: N in {10, 100}, fewer
// trials. The run is bounded to ~2 minutes (--budget SECONDS): each cell gets a share of the
// remaining budget and a cell that runs out reports what it measured so far, marked "cut short".
// --only N:LOSS runs one cell (e.g. --only 1000:10), --trials K sets its trial count; --explain
// prints, per cell, what the steady-state datagrams carried (per message kind: how many, how many
// bytes, and why they travel) and the protocol counters behind them.
#include "support/sim_network.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace rpcnetd;
using membership::member_event_kind;
using membership::member_status;

namespace {

struct trial {
    std::optional<double> join_s;
    std::optional<double> death_s;
    std::optional<double> first_suspect_s;
    std::size_t false_failures = 0;
    double msgs_per_member_s = 0;
    double bytes_per_member_s = 0;
    bool out_of_time = false;
    test::traffic_breakdown traffic;     // steady state, --explain only
    membership::swim_counters counters;  // steady state, summed over members
    double member_seconds = 0;
};

constexpr auto limit = 60s;

using wall_clock = std::chrono::steady_clock;

membership::swim_counters minus(const membership::swim_counters& a,
                                const membership::swim_counters& b) {
    membership::swim_counters d;
    for (auto field : test::sim_network::summed_counters) {
        d.*field = a.*field - b.*field;
    }
    return d;
}

// The flags the defaults are compared against (--suspicion-mult and the like: what-if runs).
membership::swim_config base_config;

trial run_trial(std::size_t n, double loss, std::uint64_t seed, wall_clock::time_point budget,
                bool explain) {
    membership::swim_config config = base_config;
    test::sim_network sim(config, seed);
    sim.record_events(false);
    trial t;
    std::string victim;
    std::optional<common::time_point> killed_at;
    sim.on_event = [&](std::size_t, common::time_point at, const membership::member_event& e) {
        if (e.kind == member_event_kind::failed && e.snapshot.name != victim) {
            ++t.false_failures;
        }
        if (killed_at && e.snapshot.name == victim && !t.first_suspect_s &&
            (e.kind == member_event_kind::suspect || e.kind == member_event_kind::failed)) {
            t.first_suspect_s = common::to_seconds(at - *killed_at);
        }
    };
    // Large lossy clusters are expensive to simulate: every phase also stops at the wall budget.
    auto out_of_time = [&] {
        t.out_of_time = t.out_of_time || wall_clock::now() > budget;
        return t.out_of_time;
    };
    for (std::size_t i = 0; i < n; ++i) {
        sim.add_node("node-" + std::to_string(i));
    }
    sim.seed_all();
    sim.set_loss(loss);
    sim.run_for(n >= 1000 ? 1s : 2s);

    const auto s0 = sim.stats();
    const auto c0 = sim.counters_total();
    const auto steady_start = sim.now();
    sim.explain(explain);
    sim.run_until(out_of_time, n >= 1000 ? 2s : 5s, 50ms);
    sim.explain(false);
    const auto s1 = sim.stats();
    t.traffic = sim.breakdown();
    t.counters = minus(sim.counters_total(), c0);
    const double member_seconds =
        static_cast<double>(n) * std::max(1e-3, common::to_seconds(sim.now() - steady_start));
    t.member_seconds = member_seconds;
    t.msgs_per_member_s =
        static_cast<double>(s1.datagrams_sent - s0.datagrams_sent) / member_seconds;
    t.bytes_per_member_s = static_cast<double>(s1.bytes_sent - s0.bytes_sent) / member_seconds;

    const auto join_start = sim.now();
    const auto newcomer = sim.add_node("newcomer");
    sim.join(newcomer, {0});
    if (sim.run_until(
            [&] { return out_of_time() || sim.all_see("newcomer", member_status::alive); },
            limit) &&
        !t.out_of_time) {
        t.join_s = common::to_seconds(sim.now() - join_start);
    }

    common::rng pick(seed);
    const auto v = 1 + static_cast<std::size_t>(pick() % (n - 1));
    victim = sim.name(v);
    killed_at = sim.now();
    sim.kill(v);
    if (sim.run_until([&] { return out_of_time() || sim.all_see(victim, member_status::failed); },
                      limit) &&
        !t.out_of_time) {
        t.death_s = common::to_seconds(sim.now() - *killed_at);
    }
    return t;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const auto m = v.size() / 2;
    return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string seconds_cell(const std::vector<std::optional<double>>& xs, double period_s) {
    std::vector<double> ok;
    for (const auto& x : xs) {
        if (x) {
            ok.push_back(*x);
        }
    }
    if (ok.empty()) {
        return fmt::format("{:>22}", "timeout");
    }
    const double med = median(ok);
    const double worst = *std::max_element(ok.begin(), ok.end());
    std::string misses =
        ok.size() < xs.size() ? fmt::format(" ({} t/o)", xs.size() - ok.size()) : std::string{};
    return fmt::format("{:5.2f}s/{:4.1f}p max {:5.2f}s{}", med, med / period_s, worst, misses);
}

void print_explain(const trial& t) {
    const double ms = std::max(1e-9, t.member_seconds);
    const auto& b = t.traffic;
    std::uint64_t total = b.header_bytes;
    for (const auto& [kind, k] : b.kinds) {
        total += k.bytes;
    }
    fmt::print(
        "    steady state, per member per second: {:.1f} probe datagrams, {:.1f} gossip-only "
        "datagrams, {:.0f} header bytes\n",
        static_cast<double>(b.probe_datagrams) / ms, static_cast<double>(b.gossip_datagrams) / ms,
        static_cast<double>(b.header_bytes) / ms);
    for (const auto& [kind, k] : b.kinds) {
        fmt::print("    {:<14} {:>9.2f} msg/m/s {:>9.0f} bytes/m/s {:>5.1f}%\n", kind,
                   static_cast<double>(k.count) / ms, static_cast<double>(k.bytes) / ms,
                   total ? 100.0 * static_cast<double>(k.bytes) / static_cast<double>(total) : 0.0);
    }
    fmt::print("    updates received: {} of which {} already known ({:.0f}%)\n",
               b.updates_delivered, b.updates_redundant,
               b.updates_delivered ? 100.0 * static_cast<double>(b.updates_redundant) /
                                         static_cast<double>(b.updates_delivered)
                                   : 0.0);
    const auto& c = t.counters;
    const double secs = ms;  // per member-second
    fmt::print(
        "    per member per second: probes {:.2f} (phi {:.3f}), ping-reqs {:.2f}, nacks {:.2f}, "
        "probe failures {:.3f} (second chances {:.3f}), suspicions {:.3f}, refutations {:.3f}, "
        "failures {:.3f}, "
        "push-pulls {:.3f}\n",
        static_cast<double>(c.probes) / secs, static_cast<double>(c.phi_probes) / secs,
        static_cast<double>(c.indirect_probes) / secs, static_cast<double>(c.nacks_received) / secs,
        static_cast<double>(c.probe_failures) / secs, static_cast<double>(c.second_chances) / secs,
        static_cast<double>(c.suspicions) / secs, static_cast<double>(c.refutations) / secs,
        static_cast<double>(c.failures_declared) / secs, static_cast<double>(c.push_pulls) / secs);
}

}  // namespace

// Long on purpose: a benchmark's whole scenario, read top to bottom as the README describes it.
int main(int argc, char** argv) {
    bool quick = false;
    bool explain = false;
    std::optional<std::size_t> only_n;
    double only_loss = 0;
    int only_trials = 0;
    auto total_budget = std::chrono::duration_cast<wall_clock::duration>(115s);
    const auto usage = [] {
        fmt::print(
            stderr,
            "usage: gossip_sim [--quick] [--only N:LOSS_PERCENT] [--trials K] "
            "[--explain] [--budget SECONDS] [--suspicion-mult M] [--suspicion-confirmations K] "
            "[--probe-interval-ms MS] [--gossip-interval-ms MS] [--fanout F]\n");
        return 2;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--quick") {
            quick = true;
        } else if (arg == "--explain") {
            explain = true;
        } else if (arg == "--only" && has_value) {
            const std::string v = argv[++i];
            const auto colon = v.find(':');
            if (colon == std::string::npos) {
                return usage();
            }
            only_n = std::stoul(v.substr(0, colon));
            only_loss = std::stod(v.substr(colon + 1)) / 100.0;
            if (*only_n < 2 || only_loss < 0 || only_loss >= 1) {
                return usage();
            }
        } else if (arg == "--trials" && has_value) {
            only_trials = std::stoi(argv[++i]);
        } else if (arg == "--suspicion-mult" && has_value) {
            base_config.suspicion_mult = static_cast<std::uint32_t>(std::stoul(argv[++i]));
        } else if (arg == "--suspicion-confirmations" && has_value) {
            base_config.suspicion_confirmations = static_cast<std::uint32_t>(std::stoul(argv[++i]));
        } else if (arg == "--probe-interval-ms" && has_value) {
            base_config.probe_interval = std::chrono::milliseconds(std::stol(argv[++i]));
        } else if (arg == "--gossip-interval-ms" && has_value) {
            base_config.gossip_interval = std::chrono::milliseconds(std::stol(argv[++i]));
        } else if (arg == "--fanout" && has_value) {
            base_config.gossip_fanout = static_cast<std::uint32_t>(std::stoul(argv[++i]));
        } else if (arg == "--budget" && has_value) {
            total_budget = std::chrono::duration_cast<wall_clock::duration>(
                std::chrono::duration<double>(std::stod(argv[++i])));
        } else {
            return usage();
        }
    }
    struct size_plan {
        std::size_t n;
        int trials;
    };
    std::vector<size_plan> plan = quick ? std::vector<size_plan>{{10, 7}, {100, 1}}
                                        : std::vector<size_plan>{{10, 21}, {100, 3}, {1000, 1}};
    std::vector<double> losses = {0.0, 0.05, 0.10, 0.25};
    if (only_n) {
        const auto it = std::find_if(plan.begin(), plan.end(),
                                     [&](const size_plan& p) { return p.n == *only_n; });
        plan = {{*only_n, only_trials > 0 ? only_trials : it != plan.end() ? it->trials : 1}};
        losses = {only_loss};
    } else if (only_trials > 0) {
        for (auto& p : plan) {
            p.trials = only_trials;
        }
    }
    const double period_s = common::to_seconds(base_config.probe_interval);
    const auto wall_start = std::chrono::steady_clock::now();

    fmt::print(
        "gossip_sim: virtual time, probe {}ms, timeout {}ms, k={}, phi {}, suspicion_mult {}, "
        "fanout {} every {}ms\n",
        base_config.probe_interval.count(), base_config.probe_timeout.count(),
        base_config.indirect_probes, base_config.phi_threshold, base_config.suspicion_mult,
        base_config.gossip_fanout, base_config.gossip_interval.count());
    fmt::print("join/death: median seconds / protocol periods until every member knows, "
               "worst trial; first = first suspicion after kill -9\n");
    fmt::print("{:>5} {:>5} {:>6} {:>34} {:>34} {:>8} {:>6} {:>9} {:>10}\n", "N", "loss", "trials",
               "join (all know)", "death (all declare failed)", "first", "false", "msg/m/s",
               "bytes/m/s");
    std::size_t cells_left = plan.size() * losses.size();
    for (const auto& [n, trials] : plan) {
        for (double loss : losses) {
            const auto spent = wall_clock::now() - wall_start;
            const auto cell_budget = (total_budget - spent) / static_cast<long>(cells_left--);
            const auto cell_deadline = wall_clock::now() + cell_budget;
            std::vector<std::optional<double>> joins, deaths, firsts;
            std::size_t false_failures = 0;
            double msgs = 0, bytes = 0;
            int done = 0;
            bool cut_short = false;
            for (int k = 0; k < trials && !cut_short; ++k) {
                const auto t = run_trial(n, loss,
                                         1000 * n + static_cast<std::uint64_t>(k) +
                                             static_cast<std::uint64_t>(loss * 100),
                                         cell_deadline, explain);
                cut_short = t.out_of_time;
                if (explain) {
                    print_explain(t);
                }
                ++done;
                joins.push_back(t.join_s);
                deaths.push_back(t.death_s);
                firsts.push_back(t.first_suspect_s);
                false_failures += t.false_failures;
                msgs += t.msgs_per_member_s;
                bytes += t.bytes_per_member_s;
            }
            std::vector<double> f;
            for (const auto& x : firsts) {
                if (x) {
                    f.push_back(*x);
                }
            }
            fmt::print("{:>5} {:>4.0f}% {:>6} {:>34} {:>34} {:>7.2f}s {:>6} {:>9.1f} {:>10.0f}{}\n",
                       n, loss * 100, done, seconds_cell(joins, period_s),
                       seconds_cell(deaths, period_s), f.empty() ? NAN : median(f), false_failures,
                       msgs / done, bytes / done, cut_short ? "  (cut short: wall budget)" : "");
            std::fflush(stdout);
        }
    }
    fmt::print(
        "wall time {:.1f}s\n",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());
    return 0;
}
