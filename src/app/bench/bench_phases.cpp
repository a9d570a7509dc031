// Unary and streaming phases of `rpcnetd bench` (PROTOCOL.md "U" and "S").
#include "app/bench/bench_phases.hpp"

#include "app/bench/bench_stats.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "net/task_group.hpp"
#include "proto/rpcnetd.pb.h"

#include <cstring>

namespace rpcnetd::app {
namespace {

namespace asio = net::asio;
using common::clock;
using namespace std::chrono_literals;

// ---- unary -----------------------------------------------------------------------------------

struct unary_run {
    bench_window window;
    std::vector<std::uint64_t> latencies;
    std::uint64_t completed = 0;
    std::uint64_t errors = 0;
};

// One of the C closed-loop callers: each completion immediately issues the next call.
net::awaitable<void> unary_caller(rpc::channel c, unary_run* run, std::string request) {
    for (;;) {
        const auto issued = clock::now();
        auto r = co_await c.unary("Bench.Echo", request, 10s);
        const auto now = clock::now();
        if (!r.st.ok() || r.response != request) {
            if (++run->errors < 5) {
                common::logger("app").warn("bench call failed status={}", r.st.to_string());
            }
        }
        const bool open = run->window.observe(now);
        if (run->window.contains(now)) {
            ++run->completed;
            if (issued >= run->window.start) {
                run->latencies.push_back(ns_since(issued, now));
            }
        }
        if (!open || !c.is_open()) {
            co_return;
        }
    }
}

// ---- stream ----------------------------------------------------------------------------------

// "token-0000000000", incremented in place (cheaper than formatting every expected token).
class token_counter {
public:
    token_counter() { std::memcpy(text_, "token-0000000000", 16); }
    const char* data() const noexcept { return text_; }
    void increment() noexcept {
        for (int i = 15; i >= 6; --i) {
            if (text_[i] != '9') {
                ++text_[i];
                return;
            }
            text_[i] = '0';
        }
    }

private:
    char text_[16];
};

bool token_matches(const std::string& message, const token_counter& expected) {
    // Fast path: BenchToken{token: 16 bytes} is exactly 0x0A 0x10 <16 bytes>.
    if (message.size() == 18 && message[0] == 0x0A && message[1] == 0x10) {
        return std::memcmp(message.data() + 2, expected.data(), 16) == 0;
    }
    v1::BenchToken tok;
    return tok.ParseFromString(message) && tok.token().size() == 16 &&
           std::memcmp(tok.token().data(), expected.data(), 16) == 0;
}

std::string stream_request(std::uint32_t count, bool hold) {
    v1::StreamReq r;
    r.set_count(count);
    r.set_hold(hold);
    return r.SerializeAsString();
}

struct stream_tally {
    std::uint64_t got = 0;
    std::uint64_t bad = 0;
    std::uint64_t failed = 0;
    std::vector<std::uint64_t> ttft;
};

net::awaitable<void> stream_reader(rpc::channel c, std::uint32_t count, stream_tally* tally) {
    const auto started = clock::now();
    auto s = co_await c.open_stream("Bench.Stream", stream_request(count, false));
    token_counter expected;
    std::uint64_t got = 0;
    for (;;) {
        auto item = co_await s.next(30s);
        if (item.what == rpc::stream_item::kind::message) {
            if (got == 0) {
                tally->ttft.push_back(ns_since(started, clock::now()));
            }
            if (!token_matches(item.message, expected)) {
                ++tally->bad;
            }
            expected.increment();
            ++got;
            continue;
        }
        if (item.what != rpc::stream_item::kind::finished || !item.st.ok() || got != count) {
            ++tally->failed;
            common::logger("app").warn("bench stream failed got={} of {} status={}", got, count,
                                       item.what == rpc::stream_item::kind::timeout
                                           ? std::string("idle timeout")
                                           : item.st.to_string());
        }
        break;
    }
    tally->got += got;
}

}  // namespace

net::awaitable<rpc::channel> bench_connect_or_throw(const bench_env& env) {
    auto r = co_await rpc::channel::connect(co_await asio::this_coro::executor, env.cfg.target,
                                            env.ssl, env.opts);
    if (!r) {
        throw runtime_failure("cannot connect to " + env.cfg.target.to_string() + ": " +
                              r.error().message());
    }
    co_return *r;
}

net::awaitable<void> bench_sleep(std::chrono::steady_clock::duration d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(net::use_tuple);
}

net::awaitable<int> bench_unary(bench_env& env) {
    const auto& cfg = env.cfg;
    auto c = co_await bench_connect_or_throw(env);
    v1::EchoMsg msg;
    msg.set_payload(std::string(cfg.payload, 'x'));
    const std::string request = msg.SerializeAsString();

    unary_run run;
    run.window = bench_window::after_warmup(cfg);
    run.latencies.reserve(4'000'000);
    net::task_group callers(co_await asio::this_coro::executor, "bench-unary");
    for (std::uint32_t i = 0; i < cfg.concurrency; ++i) {
        callers.spawn(unary_caller(c, &run, request));
    }
    co_await callers.wait();

    bench_report rep("unary");
    rep.add("conc", static_cast<long long>(cfg.concurrency));
    rep.add("payload", static_cast<long long>(cfg.payload));
    rep.add_completed(cfg, "calls", run.completed);
    rep.add("p50_us", percentile_us(run.latencies, 0.5), 1);
    rep.add("p90_us", percentile_us(run.latencies, 0.9), 1);
    rep.add("p99_us", percentile_us(run.latencies, 0.99), 1);
    rep.add("p999_us", percentile_us(run.latencies, 0.999), 1);
    rep.add("max_us", percentile_us(run.latencies, 1.0), 1);
    rep.add_cpu(run.window, run.completed, "srv_cpu_us_per_call");
    rep.add("errors", static_cast<long long>(run.errors));
    rep.print(cfg.output);
    co_return run.errors == 0 && run.completed > 0 ? 0 : 1;
}

net::awaitable<int> bench_stream(bench_env& env) {
    const auto& cfg = env.cfg;
    auto c = co_await bench_connect_or_throw(env);
    auto ex = co_await asio::this_coro::executor;
    if (cfg.warmup_count > 0) {
        stream_tally warm;
        co_await stream_reader(c, cfg.warmup_count, &warm);
    }
    stream_tally tally;
    const double srv0 = process_cpu_seconds(cfg.server_pid);
    const double cli0 = self_cpu_seconds();
    const auto t0 = clock::now();
    net::task_group readers(ex, "bench-stream");
    for (std::uint32_t i = 0; i < cfg.streams; ++i) {
        readers.spawn(stream_reader(c, cfg.count, &tally));
    }
    co_await readers.wait();
    const double el = std::chrono::duration<double>(clock::now() - t0).count();
    const double srv = process_cpu_seconds(cfg.server_pid) - srv0;
    const double cli = self_cpu_seconds() - cli0;
    const double mps = static_cast<double>(tally.got) / el;

    bench_report rep("stream");
    rep.add("streams", static_cast<long long>(cfg.streams));
    rep.add("msgs_per_stream", static_cast<long long>(cfg.count));
    rep.add("total_msgs", static_cast<long long>(tally.got));
    rep.add("elapsed_s", el, 3);
    rep.add("msgs_per_s", mps, 0);
    rep.add("payload_MB_per_s", mps * 16 / 1e6, 2);
    rep.add("per_stream_msgs_per_s", mps / cfg.streams, 0);
    rep.add("ttft_p50_us", percentile_us(tally.ttft, 0.5), 1);
    rep.add("srv_cpu_pct", 100 * srv / el, 0);
    rep.add("cli_cpu_pct", 100 * cli / el, 0);
    rep.add("srv_cpu_ns_per_msg", tally.got ? 1e9 * srv / static_cast<double>(tally.got) : 0.0, 0);
    rep.add("bad", static_cast<long long>(tally.bad));
    rep.add("failed", static_cast<long long>(tally.failed));
    rep.print(cfg.output);
    co_return tally.bad == 0 && tally.failed == 0 ? 0 : 1;
}

}  // namespace rpcnetd::app
