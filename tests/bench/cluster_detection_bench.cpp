// Failure detection and membership cost at process level (issue #3), default SWIM flags.
//
// 1. Idle cost of a 10-member cluster (director + 9 workers): RSS (VmRSS) and CPU % of one core
//    per member over a window, from /proc.
// 2. Detection rounds: kill -9 a random worker, then measure
//    (a) when the director stops assigning it: the director's "🩺 Worker X failed its health
//        check" line, and what a stream of probe clients (`client --tokens 1 --filter label=X`)
//        sees: the first probe answered "waiting". A probe that was assigned X reports X to the
//        director ("🚨 Client reported worker X failed"), so the probe number is "what new
//        clients see", health checks and client reports together; both are printed;
//    (b) when EVERY survivor has printed "NodeFailed node=X" (and when the first one did).
//    The victim is restarted under the same label and address before the next round.
// 3. Join convergence of 30 members: director first, then 29 workers started back to back; the
//    time until every member has printed NodeJoined for all 29 others. Then the idle cost of
//    those 30.
// Times come from arrival stamps of each member's stdout lines (pipes drained by threads).
// Prints numbers and one JSON summary line; never fails on timing.
//
//   ./build/cluster_detection_bench [--quick] [--binary PATH] [--rounds N] [--seed S]
//                                   [--join-members N] [--idle-seconds N]
#include "bench/cluster_bench_cluster.hpp"
#include "bench/cluster_bench_common.hpp"
#include "bench/cluster_piped_process.hpp"
#include "support/cluster.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace rpcnetd::bench;
using rpcnetd::test::json_string;

struct idle_result {
    std::size_t members = 0;
    idle_sample sample;
};

idle_result measure_idle(bench_cluster& c, std::chrono::seconds window) {
    std::this_thread::sleep_for(2s);  // let join traffic settle
    std::vector<pid_t> pids{c.director().pid()};
    for (std::size_t i = 0; i < c.worker_count(); ++i) {
        pids.push_back(c.worker(i).pid());
    }
    return {pids.size(), sample_idle(pids, window)};
}

void print_idle(const idle_result& r) {
    fmt::print("idle {} members over the window: RSS median={:.1f}MiB max={:.1f}MiB (RssAnon "
               "median={:.1f}MiB); CPU median={:.3f}% max={:.3f}% of a core (director: {:.1f}MiB, "
               "{:.3f}%; targets <= 8MiB, <= 0.25%)\n",
               r.members, median(r.sample.rss_mib), percentile(r.sample.rss_mib, 100),
               median(r.sample.anon_mib), median(r.sample.cpu_percent),
               percentile(r.sample.cpu_percent, 100), r.sample.rss_mib.at(0),
               r.sample.cpu_percent.at(0));
}

std::string idle_json(const idle_result& r) {
    return fmt::format("{{\"members\":{},\"rss_mib_median\":{},\"rss_mib_max\":{},"
                       "\"rss_anon_mib_median\":{},\"cpu_pct_median\":{:.3f},"
                       "\"cpu_pct_max\":{:.3f}}}",
                       r.members, jnum(median(r.sample.rss_mib)),
                       jnum(percentile(r.sample.rss_mib, 100)), jnum(median(r.sample.anon_mib)),
                       median(r.sample.cpu_percent), percentile(r.sample.cpu_percent, 100));
}

struct round_result {
    std::string victim;
    std::optional<double> health_ms;  // director's 🩺 line
    std::optional<double> probe_ms;   // first probe client answered "waiting"
    std::optional<double> report_ms;  // director's 🚨 line (a probe reported the victim)
    std::optional<double> first_failed_ms;
    std::optional<double> all_failed_ms;
    std::size_t missing = 0;  // survivors that never printed NodeFailed for the victim
    std::optional<double> rejoin_ms;
};

// Probe clients, one after another, until one is answered "waiting" (the director no longer
// assigns the victim) or the deadline passes. Each probe is killed as soon as it shows its first
// event, to keep it from reporting the victim (it may still win that race; see the header).
std::optional<double> probe_assign_stop(bench_cluster& c, const std::string& victim,
                                        bclock::time_point t0, bclock::time_point deadline) {
    while (bclock::now() < deadline) {
        auto p = c.start_client(
            {"--tokens", "1", "--filter", "label=" + victim, "--wait-timeout", "1s"});
        const auto first = p->wait_line(
            0,
            [](const std::string& l) {
                const auto e = json_string(l, "event").value_or("");
                return e == "assigned" || e == "waiting";
            },
            bclock::now() + 3s);
        p->kill_and_reap();
        if (first && json_string(first->text, "event").value_or("") == "waiting") {
            return ms_between(t0, first->at);
        }
        std::this_thread::sleep_for(5ms);
    }
    return std::nullopt;
}

std::optional<double> line_after(const bench_member& m, std::size_t from, const std::string& needle,
                                 bclock::time_point t0, bclock::time_point deadline) {
    const auto l = m.proc->wait_line(
        from, [&](const std::string& s) { return s.find(needle) != std::string::npos; }, deadline);
    return l ? std::optional<double>(ms_between(t0, l->at)) : std::nullopt;
}

// Long on purpose: a benchmark's whole scenario, read top to bottom as the README describes it.
round_result detection_round(bench_cluster& c, std::size_t victim_index) {
    round_result r;
    bench_member& victim = c.worker(victim_index);
    r.victim = victim.name;
    std::vector<bench_member*> survivors{&c.director()};
    for (std::size_t i = 0; i < c.worker_count(); ++i) {
        if (i != victim_index) {
            survivors.push_back(&c.worker(i));
        }
    }
    std::vector<std::size_t> from;
    for (auto* s : survivors) {
        from.push_back(s->proc->line_count());
    }

    const auto t0 = bclock::now();
    victim.proc->kill_and_reap();
    r.probe_ms = probe_assign_stop(c, r.victim, t0, t0 + 5s);
    r.health_ms =
        line_after(c.director(), from[0],
                   fmt::format("Worker {} failed its health check", r.victim), t0, t0 + 5s);
    r.report_ms = line_after(c.director(), from[0],
                             fmt::format("Client reported worker {} failed", r.victim), t0, t0);

    std::vector<double> failed;
    for (std::size_t i = 0; i < survivors.size(); ++i) {
        const auto l =
            survivors[i]->proc->wait_line(from[i], is_event("NodeFailed", r.victim), t0 + 15s);
        if (l) {
            failed.push_back(ms_between(t0, l->at));
        } else {
            ++r.missing;
        }
    }
    if (!failed.empty()) {
        r.first_failed_ms = percentile(failed, 0);
        r.all_failed_ms = percentile(failed, 100);
    }

    // Restart under the same label and address; every survivor must see it come back.
    for (std::size_t i = 0; i < survivors.size(); ++i) {
        from[i] = survivors[i]->proc->line_count();
    }
    victim.start();
    const auto t1 = bclock::now();
    double rejoin = 0;
    bool all_back = true;
    for (std::size_t i = 0; i < survivors.size(); ++i) {
        const auto l = survivors[i]->proc->wait_line(
            from[i],
            [&](const std::string& s) {
                return is_event("NodeJoined", r.victim)(s) ||
                       is_event("NodeRecovered", r.victim)(s);
            },
            t1 + 15s);
        all_back = all_back && l.has_value();
        rejoin = l ? std::max(rejoin, ms_between(t1, l->at)) : rejoin;
    }
    if (all_back) {
        r.rejoin_ms = rejoin;
    }
    c.wait_state(r.victim, "alive", bclock::now() + 10s);
    return r;
}

std::string opt_ms(const std::optional<double>& v) {
    return v ? fmt::format("{:.0f}ms", *v) : "none";
}

struct join_result {
    std::size_t members = 0;
    std::optional<double> from_last_ms;
    std::optional<double> from_first_ms;
    std::size_t unconverged = 0;
};

join_result join_convergence(bench_cluster& c, std::size_t n) {
    join_result j;
    j.members = n;
    c.start_director();
    if (!c.learn_director_name(bclock::now() + 10s)) {
        fmt::print("join: director did not answer `members` within 10s\n");
        return j;
    }
    const auto t_first = bclock::now();
    for (std::size_t i = 1; i < n; ++i) {
        c.add_worker(fmt::format("worker-{:02}", i));
    }
    const auto t_last = bclock::now();
    std::vector<bench_member*> all{&c.director()};
    for (std::size_t i = 0; i < c.worker_count(); ++i) {
        all.push_back(&c.worker(i));
    }
    bclock::time_point converged = t_last;
    for (auto* m : all) {
        std::set<std::string> seen;
        const auto l = m->proc->wait_line(
            0,
            [&](const std::string& s) {
                const auto e = parse_member_event(s);
                if (e && e->kind == "NodeJoined" && e->node != m->name) {
                    seen.insert(e->node);
                }
                return seen.size() >= n - 1;
            },
            t_last + 30s);
        if (l) {
            converged = std::max(converged, l->at);
        } else {
            ++j.unconverged;
            fmt::print("join: {} saw {} of {} others join\n", m->name, seen.size(), n - 1);
        }
    }
    if (j.unconverged == 0) {
        j.from_last_ms = ms_between(t_last, converged);
        j.from_first_ms = ms_between(t_first, converged);
    }
    return j;
}

template <class F>
std::vector<double> collect(const std::vector<round_result>& rs, F f) {
    std::vector<double> out;
    for (const auto& r : rs) {
        if (const auto v = f(r)) {
            out.push_back(*v);
        }
    }
    return out;
}

// The 10-member part: idle cost, then the kill rounds. nullopt when the cluster cannot start.
std::optional<std::vector<round_result>> detection_phase(const std::string& binary,
                                                         std::size_t rounds, std::mt19937_64& rng,
                                                         std::chrono::seconds idle_window,
                                                         idle_result& idle) {
    bench_cluster c(binary);
    c.start_director();
    for (int i = 1; i <= 9; ++i) {
        c.add_worker(fmt::format("worker-{}", i));
    }
    if (!c.wait_all_alive(bclock::now() + 20s)) {
        fmt::print(stderr, "setup failed: 9 workers not alive within 20s. director said:\n{}\n",
                   c.director().proc->all_text());
        return std::nullopt;
    }
    idle = measure_idle(c, idle_window);
    print_idle(idle);
    std::vector<round_result> rs;
    for (std::size_t i = 0; i < rounds; ++i) {
        const auto r = detection_round(c, std::uniform_int_distribution<std::size_t>(0, 8)(rng));
        fmt::print("  round {:2}: victim={} health_check={} probe_waiting={} client_report={} "
                   "first_NodeFailed={} all_NodeFailed={} missing={} rejoin_all={}\n",
                   i + 1, r.victim, opt_ms(r.health_ms), opt_ms(r.probe_ms), opt_ms(r.report_ms),
                   opt_ms(r.first_failed_ms), opt_ms(r.all_failed_ms), r.missing,
                   opt_ms(r.rejoin_ms));
        rs.push_back(r);
    }
    return rs;
}

struct detection_summary {
    std::vector<double> health, probe, first, all;
    std::size_t reports = 0;
    std::size_t missing = 0;
};

detection_summary summarize(const std::vector<round_result>& rs) {
    detection_summary d;
    d.health = collect(rs, [](const round_result& r) { return r.health_ms; });
    d.probe = collect(rs, [](const round_result& r) { return r.probe_ms; });
    d.first = collect(rs, [](const round_result& r) { return r.first_failed_ms; });
    d.all = collect(rs, [](const round_result& r) { return r.all_failed_ms; });
    for (const auto& r : rs) {
        d.reports += r.report_ms ? 1 : 0;
        d.missing += r.missing;
    }
    fmt::print("director stops assigning (health check line): {} (target median 500ms)\n",
               describe_ms(d.health));
    fmt::print("director stops assigning (probe clients): {} ({} of {} rounds had a client "
               "report)\n",
               describe_ms(d.probe), d.reports, rs.size());
    fmt::print("first survivor prints NodeFailed: {}\n", describe_ms(d.first));
    fmt::print("every survivor printed NodeFailed: {} (missing {}; target median 2500ms, "
               "memberlist/serf 6500ms)\n",
               describe_ms(d.all), d.missing);
    return d;
}

int run(const bench_args& args) {
    const std::size_t rounds = args.count("--rounds", 10, 3);
    const std::size_t join_n = std::max<std::size_t>(2, args.count("--join-members", 30, 30));
    const auto idle_window = std::chrono::seconds(args.count("--idle-seconds", 10, 5));
    const auto seed =
        args.value("--seed") ? std::stoull(*args.value("--seed")) : std::random_device{}();
    std::mt19937_64 rng(seed);
    const auto start = bclock::now();
    const std::string binary = binary_from(args);
    fmt::print("cluster_detection_bench: binary={} rounds={} seed={}\n", binary, rounds, seed);

    idle_result idle10;
    const auto rs = detection_phase(binary, rounds, rng, idle_window, idle10);
    if (!rs) {
        return 1;
    }
    const detection_summary d = summarize(*rs);

    bench_cluster big(binary);
    const join_result j = join_convergence(big, join_n);
    fmt::print("join convergence of {} members: {} after the last start, {} after the first "
               "(unconverged {}; target <= 1000ms)\n",
               j.members, opt_ms(j.from_last_ms), opt_ms(j.from_first_ms), j.unconverged);
    const idle_result idle_big = measure_idle(big, idle_window);
    print_idle(idle_big);

    fmt::print(
        "{{\"bench\":\"cluster_detection\",\"members\":10,\"rounds\":{},\"seed\":{},"
        "\"assign_stop\":{{\"health_check_median_ms\":{},\"probe_median_ms\":{},"
        "\"rounds_with_client_report\":{},\"target_median_ms\":500}},"
        "\"node_failed\":{{\"all_median_ms\":{},\"all_max_ms\":{},\"first_median_ms\":{},"
        "\"missing\":{},\"target_median_ms\":2500,\"memberlist_ms\":6500}},"
        "\"join\":{{\"members\":{},\"from_last_ms\":{},\"from_first_ms\":{},\"unconverged\":{},"
        "\"target_ms\":1000}},\"idle_10\":{},\"idle_{}\":{},"
        "\"idle_targets\":{{\"rss_mib\":8,\"cpu_pct\":0.25}},\"seconds\":{:.0f}}}\n",
        rs->size(), seed, jnum(median(d.health)), jnum(median(d.probe)), d.reports,
        jnum(median(d.all)), jnum(percentile(d.all, 100)), jnum(median(d.first)), d.missing,
        j.members, jnum(j.from_last_ms.value_or(std::nan(""))),
        jnum(j.from_first_ms.value_or(std::nan(""))), j.unconverged, idle_json(idle10), j.members,
        idle_json(idle_big), std::chrono::duration<double>(bclock::now() - start).count());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return bench_main("cluster_detection_bench", argc, argv, run);
}
