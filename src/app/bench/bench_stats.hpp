#pragma once
#include "common/time.hpp"

#include <chrono>
#include <cstdint>
// Measurement helpers of `rpcnetd bench`, matching the gRPC comparison harness's common.h so the
// numbers are comparable with grpc_client's: nearest-rank percentiles, CPU from /proc/<pid>/stat
// (utime+stime, all threads) and getrusage, VmRSS/Threads from /proc/<pid>/status; and the
// report in three formats (text, JSON, the harness's "RESULT phase=... key=value" line).
#include "cli/options.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rpcnetd::app {

// Nanoseconds from `from` to `to` (steady clock), for latency samples.
inline std::uint64_t ns_since(common::clock::time_point from, common::clock::time_point to) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count());
}

// Nearest-rank percentile (p in [0,1]) of nanosecond samples, in µs; 0 when empty. Reorders v.
double percentile_us(std::vector<std::uint64_t>& v, double p);

// CPU seconds used so far by process `pid` (0 when pid <= 0 or unreadable).
double process_cpu_seconds(int pid);
// CPU seconds used so far by this process.
double self_cpu_seconds();
// A "Key:" field of /proc/<pid>/status as a number (VmRSS is in KiB); -1 when unavailable.
long process_status_field(int pid, const char* key);

// The measured window of a closed-loop phase (unary, assign): callers call observe() after each
// completion; CPU is read when the first completion lands inside the window and when the first
// one lands after it.
struct bench_window {
    common::clock::time_point start;
    common::clock::time_point end;
    int server_pid = 0;
    bool in_window = false;
    bool closed = false;
    double srv0 = 0, cli0 = 0, srv1 = 0, cli1 = 0;

    // True while the window is still open or ahead (the caller goes on).
    bool observe(common::clock::time_point now);
    bool contains(common::clock::time_point t) const { return t >= start && t < end; }
    double server_cpu() const { return srv1 - srv0; }
    double client_cpu() const { return cli1 - cli0; }
    // The window after cfg.warmup from now, lasting cfg.duration, reading cfg.server_pid.
    static bench_window after_warmup(const cli::bench_config& cfg);
};

// One result: the phase and its key=value pairs, in print order.
class bench_report {
public:
    explicit bench_report(std::string phase) : phase_(std::move(phase)) {}
    void add(const std::string& key, double value, int decimals);
    void add(const std::string& key, long long value);
    // srv_cpu_pct, cli_cpu_pct and <per_key> (server CPU µs per completed unit) over window w.
    void add_cpu(const bench_window& w, std::uint64_t completed, const std::string& per_key);
    // What every closed-loop phase (unary, assign) reports of its measured window:
    // duration_s, <key> (units completed) and <key>_per_s.
    void add_completed(const cli::bench_config& cfg, const std::string& key,
                       std::uint64_t completed);
    void print(cli::bench_output format) const;  // to stdout

private:
    std::string phase_;
    std::vector<std::pair<std::string, std::string>> kv_;
};

}  // namespace rpcnetd::app
