// Failover time as a streaming client sees it (issue #4): director + 3 workers streaming a token
// every 10 ms to one client. Each round finds the serving worker from the client's latest token,
// kills it (SIGKILL) or hangs it (SIGSTOP), and measures from the signal to the client's next
// token from another worker, using arrival stamps of the client's stdout lines (a pipe drained by
// a thread, not a polled file). Killed workers are restarted under the same label and address;
// hung ones get SIGCONT; each round waits until the victim is alive again in `members`.
// At the end it checks that the client saw every sequence exactly once, in order.
// Prints numbers and one JSON summary line; never fails on timing (exit 1 only when the cluster
// cannot be set up).
//
//   ./build/cluster_failover_bench [--quick] [--binary PATH] [--kill-rounds N] [--hang-rounds N]
//                                  [--budget SECONDS] [--min-round-gap-ms MS]
#include "bench/cluster_bench_cluster.hpp"
#include "bench/cluster_bench_common.hpp"
#include "bench/cluster_piped_process.hpp"
#include "support/cluster.hpp"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace rpcnetd::bench;
using rpcnetd::test::json_string;
using rpcnetd::test::json_uint;

bool is_token(const std::string& line) {
    return json_string(line, "event").value_or("") == "token";
}

struct round_result {
    bclock::time_point signalled;
    std::string victim;
    std::optional<double> gap_ms;  // signal -> first token from another worker
    std::string reason;            // the client's failover reason
    std::string path;  // the client's non-token events between the signal and that token
    std::optional<double> director_failed_ms;  // kill -> director prints NodeFailed (kill rounds)
    std::optional<double> back_alive_ms;       // restart/SIGCONT -> alive again in members
};

// Waits for `n` more tokens, so that each round starts from a steady stream.
bool wait_tokens(const piped_process& client, std::size_t n, bclock::time_point deadline) {
    std::size_t seen = 0;
    return client
        .wait_line(
            client.line_count(), [&](const std::string& l) { return is_token(l) && ++seen >= n; },
            deadline)
        .has_value();
}

// Fills r.reason and r.path from the client's events between the signal and the next token.
void describe_path(const piped_process& client, std::size_t from, bclock::time_point t0,
                   const std::optional<stamped_line>& next, round_result& r) {
    for (const auto& l : client.lines_from(from)) {
        if (next && l.at > next->at) {
            break;
        }
        const auto event = json_string(l.text, "event").value_or("");
        if (event == "failover" && r.reason.empty()) {
            r.reason = json_string(l.text, "reason").value_or("");
        }
        if (event == "token" || event.empty()) {
            continue;
        }
        const auto who = json_string(l.text, event == "failover" ? "from" : "worker");
        r.path += fmt::format("{}{}{}@{:.0f}ms", r.path.empty() ? "" : " ", event,
                              who ? ":" + *who : "", ms_between(t0, l.at));
    }
}

std::optional<round_result> run_round(bench_cluster& c, const piped_process& client, bool hang) {
    if (!wait_tokens(client, 20, bclock::now() + 15s)) {
        fmt::print("  client is not streaming; round skipped\n");
        return std::nullopt;
    }
    const auto last = client.last_line_where(is_token);
    round_result r;
    r.victim = json_string(last->text, "worker").value_or("");
    const auto idx = c.worker_index(r.victim);
    if (!idx) {
        fmt::print("  token from unknown worker '{}'; round skipped\n", r.victim);
        return std::nullopt;
    }
    bench_member& victim = c.worker(*idx);
    const std::size_t client_from = client.line_count();
    const std::size_t director_from = c.director().proc->line_count();

    const auto t0 = bclock::now();
    r.signalled = t0;
    if (hang) {
        victim.proc->signal(SIGSTOP);
    } else {
        victim.proc->kill_and_reap();
    }
    const auto next = client.wait_line(
        client_from,
        [&](const std::string& l) {
            return is_token(l) && json_string(l, "worker").value_or("") != r.victim;
        },
        t0 + 20s);
    if (next) {
        r.gap_ms = ms_between(t0, next->at);
    }
    describe_path(client, client_from, t0, next, r);

    if (hang) {
        victim.proc->signal(SIGCONT);
    } else {
        // Let the director see the death first, so "alive again" below means the new process.
        if (auto failed = c.director().proc->wait_line(
                director_from, is_event("NodeFailed", r.victim), t0 + 10s)) {
            r.director_failed_ms = ms_between(t0, failed->at);
        }
        victim.start();
    }
    const auto t1 = bclock::now();
    if (c.wait_state(r.victim, "alive", t1 + 15s)) {
        r.back_alive_ms = ms_between(t1, bclock::now());
    }
    return r;
}

void print_round(std::size_t i, const char* kind, const round_result& r) {
    fmt::print(
        "  {} round {:2}: victim={} next_token={} reason=\"{}\" path=[{}] director_failed={} "
        "back_alive={}\n",
        kind, i + 1, r.victim, r.gap_ms ? fmt::format("{:.1f}ms", *r.gap_ms) : "none", r.reason,
        r.path, r.director_failed_ms ? fmt::format("{:.0f}ms", *r.director_failed_ms) : "-",
        r.back_alive_ms ? fmt::format("{:.0f}ms", *r.back_alive_ms) : "TIMEOUT");
}

struct order_check {
    std::size_t tokens = 0;
    std::size_t duplicates = 0;  // sequence not above the previous one
    std::size_t gaps = 0;        // sequence skipped ahead
    bool starts_at_one = false;
    bool ok() const { return tokens > 0 && starts_at_one && duplicates == 0 && gaps == 0; }
};

order_check check_order(const piped_process& client) {
    order_check o;
    std::uint64_t prev = 0;
    for (const auto& l : client.lines_from(0)) {
        if (!is_token(l.text)) {
            continue;
        }
        const auto seq = json_uint(l.text, "sequence").value_or(0);
        if (o.tokens++ == 0) {
            o.starts_at_one = seq == 1;
        } else if (seq <= prev) {
            ++o.duplicates;
        } else if (seq > prev + 1) {
            ++o.gaps;
        }
        prev = seq;
    }
    return o;
}

std::vector<double> gaps_of(const std::vector<round_result>& rs, std::size_t* missed) {
    std::vector<double> out;
    for (const auto& r : rs) {
        if (r.gap_ms) {
            out.push_back(*r.gap_ms);
        } else {
            ++*missed;
        }
    }
    return out;
}

std::string json_block(const std::vector<double>& v, std::size_t missed, double target_median,
                       std::optional<double> target_p99) {
    return fmt::format("{{\"rounds\":{},\"missed\":{},\"median_ms\":{},\"p99_ms\":{},\"max_ms\":{},"
                       "\"target_median_ms\":{}{}}}",
                       v.size() + missed, missed, jnum(median(v)), jnum(percentile(v, 99)),
                       jnum(percentile(v, 100)), target_median,
                       target_p99 ? fmt::format(",\"target_p99_ms\":{}", *target_p99) : "");
}

void report(const std::vector<round_result>& kills, const std::vector<round_result>& hangs,
            const order_check& order, std::chrono::milliseconds gap, bclock::time_point start) {
    std::size_t kill_missed = 0;
    std::size_t hang_missed = 0;
    const auto kill_gaps = gaps_of(kills, &kill_missed);
    const auto hang_gaps = gaps_of(hangs, &hang_missed);
    fmt::print("kill -9 -> next token: {} (missed {}; target median 50ms, p99 250ms)\n",
               describe_ms(kill_gaps), kill_missed);
    fmt::print("SIGSTOP -> next token: {} (missed {}; target median 1500ms)\n",
               describe_ms(hang_gaps), hang_missed);
    fmt::print("client sequences: {} tokens, starts_at_1={} duplicates={} gaps={} -> {}\n",
               order.tokens, order.starts_at_one, order.duplicates, order.gaps,
               order.ok() ? "exactly once, in order" : "NOT exactly once in order");
    fmt::print("{{\"bench\":\"cluster_failover\",\"kill\":{},\"hang\":{},\"tokens\":{},"
               "\"duplicates\":{},\"gaps\":{},\"exactly_once_in_order\":{},\"min_round_gap_ms\":{},"
               "\"seconds\":{:.0f}}}\n",
               json_block(kill_gaps, kill_missed, 50, 250),
               json_block(hang_gaps, hang_missed, 1500, {}), order.tokens, order.duplicates,
               order.gaps, order.ok(), gap.count(),
               std::chrono::duration<double>(bclock::now() - start).count());
}

int run(const bench_args& args) {
    const std::size_t kill_rounds = args.count("--kill-rounds", 20, 5);
    const std::size_t hang_rounds = args.count("--hang-rounds", 10, 3);
    const auto budget = std::chrono::seconds(args.count("--budget", 170, 60));
    // The client keeps a worker it saw fail out of its own requests for 3 s (exclude_window in
    // src/app/client/client.cpp); rounds closer than that measure the exclusion, not the failover.
    const auto gap = std::chrono::milliseconds(args.count("--min-round-gap-ms", 3500, 3500));
    const auto start = bclock::now();

    bench_cluster c(binary_from(args));
    fmt::print("cluster_failover_bench: binary={} kill_rounds={} hang_rounds={} "
               "min_round_gap={}ms\n",
               c.binary(), kill_rounds, hang_rounds, gap.count());
    c.start_director();
    for (const char* label : {"worker-a", "worker-b", "worker-c"}) {
        c.add_worker(label, {"--token-interval", "10ms"});
    }
    if (!c.wait_all_alive(bclock::now() + 20s)) {
        fmt::print(stderr, "setup failed: workers not alive within 20s. director said:\n{}\n",
                   c.director().proc->all_text());
        return 1;
    }
    auto client = c.start_client({"--tokens", "100000000"});

    std::vector<round_result> kills;
    std::vector<round_result> hangs;
    auto last = start - gap;
    for (std::size_t i = 0; i < kill_rounds && bclock::now() - start < budget * 2 / 3; ++i) {
        std::this_thread::sleep_until(last + gap);
        if (auto r = run_round(c, *client, false)) {
            print_round(i, "kill", *r);
            kills.push_back(*r);
            last = r->signalled;
        }
    }
    c.wait_all_alive(bclock::now() + 15s);
    for (std::size_t i = 0; i < hang_rounds && bclock::now() - start < budget; ++i) {
        std::this_thread::sleep_until(last + gap);
        if (auto r = run_round(c, *client, true)) {
            print_round(i, "hang", *r);
            hangs.push_back(*r);
            last = r->signalled;
        }
    }
    wait_tokens(*client, 5, bclock::now() + 5s);
    client->kill_and_reap();
    const order_check order = check_order(*client);

    report(kills, hangs, order, gap, start);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return bench_main("cluster_failover_bench", argc, argv, run);
}
