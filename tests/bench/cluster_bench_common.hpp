#pragma once
// Small helpers shared by the process-level cluster benchmarks (header-only; see
// cluster_piped_process.hpp for why): command-line flags, order statistics, parsing of the
// membership event lines of DESIGN.md §5, and /proc sampling for the idle-cost numbers.
#include "bench/cluster_piped_process.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace rpcnetd::bench {

// --- command line: `--flag` and `--flag VALUE` -------------------------------------------------
class bench_args {
public:
    bench_args(int argc, char** argv) : args_(argv + 1, argv + argc) {}
    bool has(std::string_view flag) const {
        return std::find(args_.begin(), args_.end(), flag) != args_.end();
    }
    std::optional<std::string> value(std::string_view flag) const {
        for (std::size_t i = 0; i + 1 < args_.size(); ++i) {
            if (args_[i] == flag) {
                return args_[i + 1];
            }
        }
        return std::nullopt;
    }
    std::size_t count(std::string_view flag, std::size_t normal, std::size_t quick) const {
        if (auto v = value(flag)) {
            return static_cast<std::size_t>(std::stoul(*v));
        }
        return has("--quick") ? quick : normal;
    }

private:
    std::vector<std::string> args_;
};

// --- statistics ---------------------------------------------------------------------------------
inline double ms_between(bclock::time_point from, bclock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

// Nearest-rank percentile (p in [0,100]) of the samples; NaN when there are none.
inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return std::nan("");
    }
    std::sort(v.begin(), v.end());
    const auto rank =
        static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}
inline double median(const std::vector<double>& v) {
    return percentile(v, 50);
}

// JSON number or null (NaN is not valid JSON).
inline std::string jnum(double x) {
    return std::isnan(x) ? "null" : fmt::format("{:.1f}", x);
}

// "n=20 median=41.0ms p99=230.0ms min=.. max=.." for people.
inline std::string describe_ms(const std::vector<double>& v) {
    if (v.empty()) {
        return "n=0";
    }
    return fmt::format("n={} median={:.1f}ms p99={:.1f}ms min={:.1f}ms max={:.1f}ms", v.size(),
                       median(v), percentile(v, 99), percentile(v, 0), percentile(v, 100));
}

// --- membership event lines: "🔴 NodeFailed node=worker-3 addr=... incarnation=... role=..." -----
struct member_event_line {
    std::string kind;  // NodeJoined, NodeSuspect, NodeFailed, NodeLeft, NodeRecovered, ...
    std::string node;
};

inline std::optional<member_event_line> parse_member_event(std::string_view line) {
    const auto n = line.find(" node=");
    if (n == std::string_view::npos) {
        return std::nullopt;
    }
    const auto k = line.rfind("Node", n);
    if (k == std::string_view::npos) {
        return std::nullopt;
    }
    member_event_line e;
    e.kind = std::string(line.substr(k, n - k));
    const auto start = n + 6;
    const auto end = line.find(' ', start);
    e.node = std::string(line.substr(start, end == std::string_view::npos ? end : end - start));
    return e;
}

inline auto is_event(std::string kind, std::string node) {
    return [kind = std::move(kind), node = std::move(node)](const std::string& line) {
        const auto e = parse_member_event(line);
        return e && e->kind == kind && e->node == node;
    };
}

// --- /proc sampling
// -------------------------------------------------------------------------------- A field of
// /proc/PID/status in KiB ("VmRSS", or "RssAnon": the private part, without the shared-library
// pages that every member maps), 0 when the process is gone.
inline std::uint64_t status_kib(pid_t pid, std::string_view field) {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    std::string line;
    const std::string prefix = std::string(field) + ":";
    while (std::getline(in, line)) {
        if (line.rfind(prefix, 0) == 0) {
            return std::strtoull(line.c_str() + prefix.size(), nullptr, 10);
        }
    }
    return 0;
}

// CPU time of all threads in nanoseconds. /proc/PID/task/*/schedstat has nanosecond resolution
// (stat's utime+stime counts 10 ms ticks, too coarse for a 0.25 % target over 10 s).
inline std::uint64_t cpu_ns(pid_t pid) {
    std::uint64_t total = 0;
    std::error_code ec;
    bool any = false;
    for (const auto& task :
         std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
        std::ifstream in(task.path() / "schedstat");
        std::uint64_t run_ns = 0;
        if (in >> run_ns) {
            total += run_ns;
            any = true;
        }
    }
    if (any) {
        return total;
    }
    // Fallback: utime + stime (fields 14, 15) in clock ticks.
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = content.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::istringstream rest(content.substr(close + 2));
    std::string field;
    std::uint64_t utime = 0;
    std::uint64_t stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) {
            utime = std::stoull(field);
        } else if (i == 15) {
            stime = std::stoull(field);
        }
    }
    const auto ticks = static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
    return (utime + stime) * (1'000'000'000ULL / ticks);
}

struct idle_sample {
    std::vector<double> rss_mib;
    std::vector<double> anon_mib;
    std::vector<double> cpu_percent;  // of one core
};

// Samples CPU over `window` and RSS at its end for each pid.
inline idle_sample sample_idle(const std::vector<pid_t>& pids, std::chrono::milliseconds window) {
    std::vector<std::uint64_t> before;
    for (auto p : pids) {
        before.push_back(cpu_ns(p));
    }
    const auto t0 = bclock::now();
    std::this_thread::sleep_for(window);
    const double wall_ns = std::chrono::duration<double, std::nano>(bclock::now() - t0).count();
    idle_sample s;
    for (std::size_t i = 0; i < pids.size(); ++i) {
        const auto used = static_cast<double>(cpu_ns(pids[i]) - before[i]);
        s.cpu_percent.push_back(100.0 * used / wall_ns);
        s.rss_mib.push_back(static_cast<double>(status_kib(pids[i], "VmRSS")) / 1024.0);
        s.anon_mib.push_back(static_cast<double>(status_kib(pids[i], "RssAnon")) / 1024.0);
    }
    return s;
}

// The main() of every cluster bench: runs `run`; an exception becomes one line and exit 1.
inline int bench_main(const char* name, int argc, char** argv, int (*run)(const bench_args&)) {
    try {
        return run(bench_args(argc, argv));
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: {}\n", name, e.what());
        return 1;
    }
}

}  // namespace rpcnetd::bench
