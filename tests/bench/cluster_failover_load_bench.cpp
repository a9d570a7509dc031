// Failover cost under load (issue #13 item 3): 50 clients stream at once (a token every 10 ms
// each) and every worker serving them is killed (SIGKILL) at the same moment, so all 50 fail
// over together and re-assign through the director in one burst.
//
// Setup: director + workers a, b; the clients start (all served by a or b); then workers c, d
// join. Round 1 kills a and b; the clients move to c and d. The killed workers are restarted
// under the same label and address, and round 2 kills c and d, and so on: every round kills all
// serving workers and every client fails over.
//
// Measured per client and round: kill -> the client's next token from a surviving worker (arrival
// stamp of its stdout line, drained by a thread), and kill -> its "assigned" line. An in-process
// probe calls Director.Assign (+ Release) every 2 ms over its own TLS connection, before and
// during each burst, so the director's Assign latency under the burst is measured directly.
// At the end every client must have seen every sequence exactly once, in order.
// Where the time goes: kill -> the client's "failover" line (failure seen), and the client's
// debug line "failover phases" (run with --log-level debug) splits the rest into the director
// call(s), connect (TCP + TLS + hello to the new worker), opening the stream, and its first token.
// Prints numbers and one JSON summary line; never fails on timing (exit 1 only when the cluster
// cannot be set up).
//
//   ./build/cluster_failover_load_bench [--quick] [--binary PATH] [--clients N] [--rounds N]
//                                       [--min-round-gap-ms MS]
#include "bench/cluster_bench_cluster.hpp"
#include "bench/cluster_bench_common.hpp"
#include "bench/cluster_piped_process.hpp"
#include "support/cluster.hpp"

#include "net/asio.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/channel.hpp"
#include "rpc/tls_context.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace rpcnetd::bench;
using rpcnetd::test::json_string;
using rpcnetd::test::json_uint;
namespace asio = rpcnetd::net::asio;
namespace net = rpcnetd::net;
namespace rpc = rpcnetd::rpc;

bool is_token(const std::string& line) {
    return json_string(line, "event").value_or("") == "token";
}

// "key=123" in a text log line, in ms (the value is in µs).
std::optional<double> us_field_ms(const std::string& line, const std::string& key) {
    const auto pos = line.find(" " + key + "=");
    if (pos == std::string::npos) {
        return std::nullopt;
    }
    try {
        return std::stod(line.substr(pos + key.size() + 2)) / 1000.0;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// The client's phases of one failover, in the order they happen.
const std::vector<std::string> phase_keys{"director_us", "connect_us", "open_us", "first_token_us"};

// Director.Assign + Director.Release in a loop on its own thread and TLS connection; records
// the Assign round trip while `recording` is set.
class assign_probe {
public:
    assign_probe(std::string director_addr, std::vector<std::string> tls_flags)
        : addr_(std::move(director_addr)), cert_(tls_flags.at(1)), key_(tls_flags.at(3)) {
        thread_ = std::thread([this] { run(); });
    }
    ~assign_probe() {
        stop_ = true;
        thread_.join();
    }
    assign_probe(const assign_probe&) = delete;
    assign_probe& operator=(const assign_probe&) = delete;

    // Starts a window; returns the samples of the previous one.
    std::vector<double> take_and_record(bool on) {
        std::lock_guard lock(mu_);
        std::vector<double> out;
        out.swap(samples_);
        failures_total_ += failures_;
        failures_ = 0;
        recording_ = on;
        return out;
    }
    std::size_t failures() {
        std::lock_guard lock(mu_);
        return failures_total_ + failures_;
    }

private:
    void run() {
        asio::io_context ioc(1);
        asio::co_spawn(ioc, loop(), asio::detached);
        ioc.run();
    }

    net::awaitable<void> loop() {
        auto ex = co_await asio::this_coro::executor;
        rpc::channel_options opts;
        opts.tls.cert_file = cert_;
        opts.tls.key_file = key_;
        opts.tls.ca_file = cert_;
        auto ssl = rpc::tls_context::make_client(opts.tls);
        const auto target = rpcnetd::common::parse_endpoint(addr_);
        asio::steady_timer pause(ex);
        std::optional<rpc::channel> c;
        while (!stop_) {
            if (!c || !c->is_open()) {
                auto r = co_await rpc::channel::connect(ex, *target, ssl, opts);
                if (!r) {
                    pause.expires_after(50ms);
                    co_await pause.async_wait(net::use_tuple);
                    continue;
                }
                c = *r;
            }
            const auto t0 = bclock::now();
            auto r = co_await c->unary("Director.Assign",
                                       rpcnetd::v1::AssignRequest().SerializeAsString(), 2s);
            const double ms = ms_between(t0, bclock::now());
            rpcnetd::v1::AssignResponse resp;
            const bool ok = r.st.ok() && resp.ParseFromString(r.response);
            {
                std::lock_guard lock(mu_);
                if (recording_) {
                    if (ok || r.st.code == rpcnetd::v1::UNAVAILABLE ||
                        r.st.code == rpcnetd::v1::RESOURCE_EXHAUSTED) {
                        samples_.push_back(ms);  // an answer, even "no worker", is a latency
                    } else {
                        ++failures_;
                    }
                }
            }
            if (ok && !resp.lease().empty()) {
                rpcnetd::v1::ReleaseRequest rel;
                rel.set_lease(resp.lease());
                (void)co_await c->unary("Director.Release", rel.SerializeAsString(), 2s);
            }
            pause.expires_after(2ms);
            co_await pause.async_wait(net::use_tuple);
        }
    }

    std::string addr_;
    std::string cert_;
    std::string key_;
    std::atomic<bool> stop_{false};
    std::mutex mu_;
    bool recording_ = false;
    std::vector<double> samples_;
    std::size_t failures_ = 0;
    std::size_t failures_total_ = 0;
    std::thread thread_;
};

struct round_result {
    std::vector<std::string> victims;
    std::vector<double> next_token_ms;  // per client that recovered
    std::vector<double> assigned_ms;    // kill -> the client's "assigned" line
    std::vector<double> detect_ms;      // kill -> the client's "failover" line
    std::vector<std::vector<double>> phase_ms = std::vector<std::vector<double>>(phase_keys.size());
    std::size_t missed = 0;             // clients without a token from a survivor in 20 s
    std::size_t resumed = 0;            // reconnects that resumed their TLS session
    std::vector<double> assign_rtt_ms;  // the probe during the burst
};

bool all_streaming(const std::vector<std::unique_ptr<piped_process>>& clients,
                   bclock::time_point deadline) {
    for (const auto& c : clients) {
        std::size_t seen = 0;
        if (!c->wait_line(
                c->line_count(), [&](const std::string& l) { return is_token(l) && ++seen >= 3; },
                deadline)) {
            return false;
        }
    }
    return true;
}

std::optional<round_result> run_round(bench_cluster& c,
                                      const std::vector<std::unique_ptr<piped_process>>& clients,
                                      assign_probe& probe) {
    if (!all_streaming(clients, bclock::now() + 20s)) {
        fmt::print("  not every client is streaming; round skipped\n");
        return std::nullopt;
    }
    std::set<std::string> serving;
    for (const auto& cl : clients) {
        if (auto last = cl->last_line_where(is_token)) {
            serving.insert(json_string(last->text, "worker").value_or(""));
        }
    }
    round_result r;
    std::vector<std::size_t> from;
    for (const auto& cl : clients) {
        from.push_back(cl->line_count());
    }
    (void)probe.take_and_record(true);
    const auto t0 = bclock::now();
    for (const auto& name : serving) {  // all at once: SIGKILL every victim, then reap
        if (auto idx = c.worker_index(name)) {
            c.worker(*idx).proc->signal(SIGKILL);
            r.victims.push_back(name);
        }
    }
    for (const auto& name : r.victims) {
        c.worker(*c.worker_index(name)).proc->kill_and_reap();
    }
    for (std::size_t i = 0; i < clients.size(); ++i) {
        const auto next = clients[i]->wait_line(
            from[i],
            [&](const std::string& l) {
                return is_token(l) && serving.count(json_string(l, "worker").value_or("")) == 0;
            },
            t0 + 20s);
        if (!next) {
            ++r.missed;
            continue;
        }
        r.next_token_ms.push_back(ms_between(t0, next->at));
        bool assigned = false;
        bool detected = false;
        bool phases = false;
        for (const auto& l : clients[i]->lines_from(from[i])) {
            const auto event = json_string(l.text, "event").value_or("");
            if (event == "assigned" && !assigned) {
                assigned = true;
                r.assigned_ms.push_back(ms_between(t0, l.at));
            } else if (event == "failover" && !detected) {
                detected = true;
                r.detect_ms.push_back(ms_between(t0, l.at));
            } else if (!phases && l.text.find("failover phases") != std::string::npos) {
                phases = true;
                r.resumed += l.text.find("tls_resumed=true") != std::string::npos ? 1 : 0;
                for (std::size_t k = 0; k < phase_keys.size(); ++k) {
                    if (const auto v = us_field_ms(l.text, phase_keys[k])) {
                        r.phase_ms[k].push_back(*v);
                    }
                }
            }
        }
    }
    r.assign_rtt_ms = probe.take_and_record(false);
    for (const auto& name : r.victims) {
        c.worker(*c.worker_index(name)).start();
    }
    c.wait_all_alive(bclock::now() + 20s);
    return r;
}

std::string json_ms(const std::vector<double>& v) {
    return fmt::format("{{\"n\":{},\"median_ms\":{},\"p99_ms\":{},\"max_ms\":{}}}", v.size(),
                       jnum(median(v)), jnum(percentile(v, 99)), jnum(percentile(v, 100)));
}

struct order_check {
    std::size_t clients_ok = 0;
    std::size_t tokens = 0;
};

order_check check_order(const std::vector<std::unique_ptr<piped_process>>& clients) {
    order_check o;
    for (const auto& c : clients) {
        std::uint64_t prev = 0;
        bool ok = true;
        for (const auto& l : c->lines_from(0)) {
            if (!is_token(l.text)) {
                continue;
            }
            ++o.tokens;
            const auto seq = json_uint(l.text, "sequence").value_or(0);
            ok = ok && seq == prev + 1;
            prev = seq;
        }
        o.clients_ok += ok && prev > 0 ? 1 : 0;
    }
    return o;
}

// Long on purpose: a benchmark's whole scenario, read top to bottom as the README describes it.
int run(const bench_args& args) {
    const std::size_t n_clients = args.count("--clients", 50, 50);
    const std::size_t rounds = args.count("--rounds", 6, 2);
    // Clients exclude a worker they saw fail for 3 s (src/app/client/client.cpp); rounds closer
    // than that would find the restarted workers still excluded.
    const auto gap = std::chrono::milliseconds(args.count("--min-round-gap-ms", 3500, 3500));
    const auto start = bclock::now();

    bench_cluster c(binary_from(args));
    fmt::print("cluster_failover_load_bench: binary={} clients={} rounds={} min_round_gap={}ms\n",
               c.binary(), n_clients, rounds, gap.count());
    c.start_director();
    for (const char* label : {"worker-a", "worker-b"}) {
        c.add_worker(label, {"--token-interval", "10ms"});
    }
    if (!c.wait_all_alive(bclock::now() + 20s)) {
        fmt::print(stderr, "setup failed: workers not alive within 20s. director said:\n{}\n",
                   c.director().proc->all_text());
        return 1;
    }
    std::vector<std::unique_ptr<piped_process>> clients;
    for (std::size_t i = 0; i < n_clients; ++i) {
        clients.push_back(c.start_client({"--tokens", "100000000", "--log-level", "debug"}));
    }
    if (!all_streaming(clients, bclock::now() + 30s)) {
        fmt::print(stderr, "setup failed: not every client streams within 30s\n");
        return 1;
    }
    for (const char* label : {"worker-c", "worker-d"}) {
        c.add_worker(label, {"--token-interval", "10ms"});
    }
    if (!c.wait_all_alive(bclock::now() + 20s)) {
        fmt::print(stderr, "setup failed: workers c, d not alive within 20s\n");
        return 1;
    }
    assign_probe probe(c.director().addr, c.common_flags());
    (void)probe.take_and_record(true);
    std::this_thread::sleep_for(1s);
    const auto quiet = probe.take_and_record(false);

    std::vector<double> next_all;
    std::vector<double> assigned_all;
    std::vector<double> rtt_all;
    std::vector<double> detect_all;
    std::vector<std::vector<double>> phase_all(phase_keys.size());
    std::size_t missed = 0;
    std::size_t resumed = 0;
    auto last = bclock::now() - gap;
    for (std::size_t i = 0; i < rounds; ++i) {
        std::this_thread::sleep_until(last + gap);
        last = bclock::now();
        auto r = run_round(c, clients, probe);
        if (!r) {
            continue;
        }
        fmt::print("  round {:2}: killed [{}] next_token {} | assigned {} | Assign rtt {} | "
                   "missed {}\n",
                   i + 1, fmt::join(r->victims, ","), describe_ms(r->next_token_ms),
                   describe_ms(r->assigned_ms), describe_ms(r->assign_rtt_ms), r->missed);
        next_all.insert(next_all.end(), r->next_token_ms.begin(), r->next_token_ms.end());
        assigned_all.insert(assigned_all.end(), r->assigned_ms.begin(), r->assigned_ms.end());
        rtt_all.insert(rtt_all.end(), r->assign_rtt_ms.begin(), r->assign_rtt_ms.end());
        detect_all.insert(detect_all.end(), r->detect_ms.begin(), r->detect_ms.end());
        for (std::size_t k = 0; k < phase_keys.size(); ++k) {
            phase_all[k].insert(phase_all[k].end(), r->phase_ms[k].begin(), r->phase_ms[k].end());
        }
        missed += r->missed;
        resumed += r->resumed;
    }
    all_streaming(clients, bclock::now() + 10s);
    for (auto& cl : clients) {
        cl->kill_and_reap();
    }
    const auto order = check_order(clients);

    fmt::print("kill -> next token, all clients, all rounds: {} (missed {}; target median 50ms, "
               "p99 250ms)\n",
               describe_ms(next_all), missed);
    fmt::print("kill -> client assigned again: {}\n", describe_ms(assigned_all));
    fmt::print("phases: kill -> failure seen: {}\n", describe_ms(detect_all));
    std::string phases_json;
    for (std::size_t k = 0; k < phase_keys.size(); ++k) {
        fmt::print("phases: {}: {}\n", phase_keys[k], describe_ms(phase_all[k]));
        phases_json += fmt::format(",\"{}\":{}", phase_keys[k], json_ms(phase_all[k]));
    }
    fmt::print("Director.Assign round trip during the bursts: {} (quiet: {}; probe failures {})\n",
               describe_ms(rtt_all), describe_ms(quiet), probe.failures());
    fmt::print("reconnects that resumed their TLS session: {}/{}\n", resumed,
               phase_all.front().size());
    fmt::print("clients exactly once in order: {}/{} ({} tokens)\n", order.clients_ok,
               clients.size(), order.tokens);
    fmt::print("{{\"bench\":\"cluster_failover_load\",\"clients\":{},\"next_token\":{},"
               "\"missed\":{},\"assigned\":{},\"detect\":{}{},\"assign_rtt_burst\":{},"
               "\"assign_rtt_quiet\":{},\"target_median_ms\":50,\"target_p99_ms\":250,\"clients_"
               "exactly_once\":{},"
               "\"seconds\":{:.0f}}}\n",
               clients.size(), json_ms(next_all), missed, json_ms(assigned_all),
               json_ms(detect_all), phases_json, json_ms(rtt_all), json_ms(quiet), order.clients_ok,
               std::chrono::duration<double>(bclock::now() - start).count());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return bench_main("cluster_failover_load_bench", argc, argv, run);
}
