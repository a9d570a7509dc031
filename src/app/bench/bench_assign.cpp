// `rpcnetd bench --mode assign --target DIRECTOR`: the director's cost per decision. C closed-loop
// callers on one connection, each issuing Director.Assign and then Director.Release of the lease
// it got, so the pool's load stays flat; warm-up, then a measured window. Reports assignments/s
// and nearest-rank percentiles of the Assign call and of the Assign + Release round trip.
#include "app/bench/bench_phases.hpp"
#include "app/bench/bench_stats.hpp"
#include "common/log.hpp"
#include "net/task_group.hpp"
#include "proto/rpcnetd.pb.h"

#include <fmt/format.h>

namespace rpcnetd::app {
namespace {

namespace asio = net::asio;
using common::clock;
using namespace std::chrono_literals;

struct assign_run {
    bench_window window;
    std::vector<std::uint64_t> assign_ns;
    std::vector<std::uint64_t> round_trip_ns;
    std::uint64_t completed = 0;
    std::uint64_t errors = 0;
    std::uint64_t no_workers = 0;
};

net::awaitable<void> assign_caller(rpc::channel c, assign_run* run, std::uint32_t index) {
    v1::AssignRequest req;
    req.set_client(fmt::format("bench-{}", index));
    req.set_job(fmt::format("bench-job-{}", index));
    const std::string request = req.SerializeAsString();
    v1::AssignResponse resp;
    v1::ReleaseRequest rel;
    for (;;) {
        const auto issued = clock::now();
        auto r = co_await c.unary("Director.Assign", request, 10s);
        const auto assigned = clock::now();
        bool ok = r.st.ok() && resp.ParseFromString(r.response) && !resp.worker().empty();
        if (ok) {
            rel.set_lease(resp.lease());
            auto done = co_await c.unary("Director.Release", rel.SerializeAsString(), 10s);
            ok = done.st.ok();
        } else if (r.st.code == v1::NO_WORKERS) {
            ++run->no_workers;
        }
        const auto now = clock::now();
        if (!ok && ++run->errors < 5) {
            common::logger("app").warn("bench assign failed status={}", r.st.to_string());
        }
        const bool open = run->window.observe(now);
        if (ok && run->window.contains(now)) {
            ++run->completed;
            if (issued >= run->window.start) {
                run->assign_ns.push_back(ns_since(issued, assigned));
                run->round_trip_ns.push_back(ns_since(issued, now));
            }
        }
        if (!open || !c.is_open()) {
            co_return;
        }
    }
}

}  // namespace

net::awaitable<int> bench_assign(bench_env& env) {
    const auto& cfg = env.cfg;
    auto c = co_await bench_connect_or_throw(env);
    assign_run run;
    run.window = bench_window::after_warmup(cfg);
    run.assign_ns.reserve(1'000'000);
    run.round_trip_ns.reserve(1'000'000);
    net::task_group callers(co_await asio::this_coro::executor, "bench-assign");
    for (std::uint32_t i = 0; i < cfg.concurrency; ++i) {
        callers.spawn(assign_caller(c, &run, i));
    }
    co_await callers.wait();

    bench_report rep("assign");
    rep.add("conc", static_cast<long long>(cfg.concurrency));
    rep.add_completed(cfg, "assignments", run.completed);
    rep.add("assign_p50_us", percentile_us(run.assign_ns, 0.5), 1);
    rep.add("assign_p99_us", percentile_us(run.assign_ns, 0.99), 1);
    rep.add("round_trip_p50_us", percentile_us(run.round_trip_ns, 0.5), 1);
    rep.add("round_trip_p99_us", percentile_us(run.round_trip_ns, 0.99), 1);
    rep.add("round_trip_max_us", percentile_us(run.round_trip_ns, 1.0), 1);
    rep.add_cpu(run.window, run.completed, "srv_cpu_us_per_assignment");
    rep.add("no_workers", static_cast<long long>(run.no_workers));
    rep.add("errors", static_cast<long long>(run.errors));
    rep.print(cfg.output);
    co_return run.errors == 0 && run.completed > 0 ? 0 : 1;
}

}  // namespace rpcnetd::app
