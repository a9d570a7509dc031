// Connection-setup and memory phases of `rpcnetd bench` (PROTOCOL.md "C" and "M").
#include "app/bench/bench_phases.hpp"

#include "app/bench/bench_stats.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "net/task_group.hpp"
#include "proto/rpcnetd.pb.h"

#include <unordered_set>

#include <unistd.h>

namespace rpcnetd::app {
namespace {

namespace asio = net::asio;
using common::clock;
using namespace std::chrono_literals;

struct idle_tally {
    std::uint32_t target = 0;
    std::uint32_t established = 0;
    std::uint32_t failed = 0;
    std::unordered_set<rpc::client_stream*> open;
    asio::steady_timer* progress = nullptr;  // cancelled when everything is established/failed
};

// Opens one held stream, counts it once its token arrived, then keeps a read pending on it
// until the phase cancels it.
net::awaitable<void> idle_holder(rpc::channel c, std::string request, idle_tally* t) {
    auto s = co_await c.open_stream("Bench.Stream", std::move(request));
    t->open.insert(&s);
    auto first = co_await s.next(60s);
    if (first.what == rpc::stream_item::kind::message) {
        ++t->established;
    } else {
        ++t->failed;
    }
    if (t->established + t->failed == t->target) {
        t->progress->cancel();
    }
    if (first.what == rpc::stream_item::kind::message) {
        (void)co_await s.next(10min);  // returns when cancelled
    }
    t->open.erase(&s);
}

}  // namespace

// Long on purpose: the measured sequence reads top to bottom, and the timestamps and readings
// it takes stay in one place instead of being passed between helpers.
net::awaitable<int> bench_connect(bench_env& env) {
    const auto& cfg = env.cfg;
    v1::EchoMsg msg;
    msg.set_payload(std::string(64, 'x'));
    const std::string request = msg.SerializeAsString();
    auto ex = co_await asio::this_coro::executor;
    std::vector<std::uint64_t> total;
    std::vector<std::uint64_t> ready;
    std::vector<std::uint64_t> first;
    int errors = 0;
    const std::uint32_t n = cfg.warmup_iters + cfg.iters;
    double cli0 = self_cpu_seconds();
    double srv0 = process_cpu_seconds(cfg.server_pid);
    // Loop A: new connection + first call, as a failing-over client sees it.
    for (std::uint32_t i = 0; i < n; ++i) {
        if (i == cfg.warmup_iters) {
            cli0 = self_cpu_seconds();
            srv0 = process_cpu_seconds(cfg.server_pid);
        }
        const auto t0 = clock::now();
        {
            auto c = co_await rpc::channel::connect(ex, cfg.target, env.ssl, env.opts);
            bool ok = false;
            if (c) {
                auto r = co_await c->unary("Bench.Echo", request, 10s);
                ok = r.st.ok() && r.response == request;
            }
            if (!ok) {
                ++errors;
            }
        }
        if (i >= cfg.warmup_iters) {
            total.push_back(ns_since(t0, clock::now()));
        }
        co_await bench_sleep(2ms);
    }
    const double cli1 = self_cpu_seconds();
    const double srv1 = process_cpu_seconds(cfg.server_pid);
    // Loop B: the same, split into "ready" (TCP + TLS + Hello) and the first call.
    for (std::uint32_t i = 0; i < n; ++i) {
        const auto t0 = clock::now();
        auto c = co_await rpc::channel::connect(ex, cfg.target, env.ssl, env.opts);
        const auto t1 = clock::now();
        bool ok = false;
        if (c) {
            auto r = co_await c->unary("Bench.Echo", request, 10s);
            ok = r.st.ok() && r.response == request;
        }
        const auto t2 = clock::now();
        if (!ok) {
            ++errors;
        }
        if (i >= cfg.warmup_iters) {
            ready.push_back(ns_since(t0, t1));
            first.push_back(ns_since(t1, t2));
        }
        c = rpc::channel();
        co_await bench_sleep(2ms);
    }
    const double iters = cfg.iters;
    bench_report rep("connect");
    rep.add("iters", static_cast<long long>(cfg.iters));
    rep.add("total_p50_us", percentile_us(total, 0.5), 0);
    rep.add("total_p99_us", percentile_us(total, 0.99), 0);
    rep.add("ready_p50_us", percentile_us(ready, 0.5), 0);
    rep.add("first_call_p50_us", percentile_us(first, 0.5), 0);
    rep.add("cli_cpu_us_per_conn", 1e6 * (cli1 - cli0) / iters, 0);
    rep.add("srv_cpu_us_per_conn", 1e6 * (srv1 - srv0) / iters, 0);
    rep.add("errors", static_cast<long long>(errors));
    rep.print(cfg.output);
    co_return errors == 0 ? 0 : 1;
}

// Long on purpose: the measured sequence reads top to bottom, and the timestamps and readings
// it takes stay in one place instead of being passed between helpers.
net::awaitable<int> bench_idle(bench_env& env) {
    const auto& cfg = env.cfg;
    const int spid = cfg.server_pid;
    auto ex = co_await asio::this_coro::executor;
    co_await bench_sleep(500ms);
    const long rss0 = process_status_field(spid, "VmRSS");
    const long thr0 = process_status_field(spid, "Threads");
    std::vector<rpc::channel> chans;
    int conn_fail = 0;
    for (std::uint32_t i = 0; i < cfg.channels; ++i) {
        auto c = co_await rpc::channel::connect(ex, cfg.target, env.ssl, env.opts);
        if (c) {
            chans.push_back(*c);
        } else {
            ++conn_fail;
            common::logger("app").warn("bench connect failed error={}", c.error().message());
        }
    }
    if (chans.empty()) {
        throw runtime_failure("bench idle: no connection to " + cfg.target.to_string());
    }
    co_await bench_sleep(1s);
    const long rss_conn = process_status_field(spid, "VmRSS");

    v1::StreamReq req;
    req.set_count(1);
    req.set_hold(true);
    const std::string request = req.SerializeAsString();
    asio::steady_timer progress(ex, clock::time_point::max());
    idle_tally tally;
    tally.target = cfg.streams;
    tally.progress = &progress;
    const auto t0 = clock::now();
    net::task_group holders(ex, "bench-idle");
    for (std::uint32_t i = 0; i < cfg.streams; ++i) {
        holders.spawn(idle_holder(chans[i % chans.size()], request, &tally));
    }
    progress.expires_after(60s);
    while (tally.established + tally.failed < tally.target && clock::now() < t0 + 60s) {
        co_await progress.async_wait(net::use_tuple);
    }
    const double open_s = std::chrono::duration<double>(clock::now() - t0).count();
    co_await bench_sleep(1s);
    const long rss_streams = process_status_field(spid, "VmRSS");
    const long thr1 = process_status_field(spid, "Threads");
    const long cli_rss = process_status_field(static_cast<int>(::getpid()), "VmRSS");
    for (auto* s : std::vector<rpc::client_stream*>(tally.open.begin(), tally.open.end())) {
        s->cancel();
    }
    co_await holders.wait();
    chans.clear();
    co_await bench_sleep(1s);
    const long rss_after = process_status_field(spid, "VmRSS");

    const double nch = static_cast<double>(cfg.channels);
    bench_report rep("idle");
    rep.add("streams", static_cast<long long>(cfg.streams));
    rep.add("channels", static_cast<long long>(cfg.channels));
    rep.add("established", static_cast<long long>(tally.established));
    rep.add("open_s", open_s, 2);
    rep.add("srv_rss_before_kib", static_cast<long long>(rss0));
    rep.add("srv_rss_conns_kib", static_cast<long long>(rss_conn));
    rep.add("srv_rss_streams_kib", static_cast<long long>(rss_streams));
    rep.add("srv_rss_after_close_kib", static_cast<long long>(rss_after));
    rep.add("per_conn_kib", static_cast<double>(rss_conn - rss0) / nch, 1);
    rep.add("per_stream_kib", static_cast<double>(rss_streams - rss_conn) / cfg.streams, 2);
    rep.add("srv_threads_before", static_cast<long long>(thr0));
    rep.add("srv_threads_streams", static_cast<long long>(thr1));
    rep.add("cli_rss_kib", static_cast<long long>(cli_rss));
    rep.add("conn_fail", static_cast<long long>(conn_fail));
    rep.print(cfg.output);
    co_return tally.established == cfg.streams&& conn_fail == 0 ? 0 : 1;
}

}  // namespace rpcnetd::app
