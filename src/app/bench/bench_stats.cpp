#include "app/bench/bench_stats.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

namespace rpcnetd::app {

bench_window bench_window::after_warmup(const cli::bench_config& cfg) {
    bench_window w;
    w.server_pid = cfg.server_pid;
    w.start = common::clock::now() + cfg.warmup;
    w.end = w.start + cfg.duration;
    return w;
}

void bench_report::add_completed(const cli::bench_config& cfg, const std::string& key,
                                 std::uint64_t completed) {
    const double dur = std::chrono::duration<double>(cfg.duration).count();
    add("duration_s", dur, 1);
    add(key, static_cast<long long>(completed));
    add(key + "_per_s", static_cast<double>(completed) / dur, 0);
}

void bench_report::add_cpu(const bench_window& w, std::uint64_t completed,
                           const std::string& per_key) {
    const double dur = std::chrono::duration<double>(w.end - w.start).count();
    add("srv_cpu_pct", 100 * w.server_cpu() / dur, 0);
    add("cli_cpu_pct", 100 * w.client_cpu() / dur, 0);
    add(per_key, completed ? 1e6 * w.server_cpu() / static_cast<double>(completed) : 0.0, 2);
}

bool bench_window::observe(common::clock::time_point now) {
    if (!in_window && now >= start) {
        in_window = true;
        srv0 = process_cpu_seconds(server_pid);
        cli0 = self_cpu_seconds();
    }
    if (now < end) {
        return true;
    }
    if (!closed) {
        closed = true;
        srv1 = process_cpu_seconds(server_pid);
        cli1 = self_cpu_seconds();
    }
    return false;
}

double percentile_us(std::vector<std::uint64_t>& v, double p) {
    if (v.empty()) {
        return 0;
    }
    auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    k = std::min(k, v.size() - 1);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return static_cast<double>(v[k]) / 1000.0;
}

double process_cpu_seconds(int pid) {
    if (pid <= 0) {
        return 0;
    }
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s;
    std::getline(f, s);
    const auto rp = s.rfind(')');
    if (rp == std::string::npos || rp + 2 > s.size()) {
        return 0;
    }
    std::istringstream is(s.substr(rp + 2));
    std::string tok;
    unsigned long long ut = 0;
    unsigned long long st = 0;
    for (int field = 3; is >> tok; ++field) {
        if (field == 14) {
            ut = std::stoull(tok);
        }
        if (field == 15) {
            st = std::stoull(tok);
            break;
        }
    }
    return static_cast<double>(ut + st) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double self_cpu_seconds() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec) / 1e6 +
           static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
}

long process_status_field(int pid, const char* key) {
    if (pid <= 0) {
        return -1;
    }
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    const std::size_t kl = std::strlen(key);
    while (std::getline(f, line)) {
        if (line.compare(0, kl, key) == 0 && line.size() > kl && line[kl] == ':') {
            return std::atol(line.c_str() + kl + 1);
        }
    }
    return -1;
}

void bench_report::add(const std::string& key, double value, int decimals) {
    kv_.emplace_back(key, fmt::format("{:.{}f}", value, decimals));
}

void bench_report::add(const std::string& key, long long value) {
    kv_.emplace_back(key, std::to_string(value));
}

void bench_report::print(cli::bench_output format) const {
    std::string out;
    switch (format) {
    case cli::bench_output::result:
        out = "RESULT phase=" + phase_;
        for (const auto& [k, v] : kv_) {
            out += " " + k + "=" + v;
        }
        break;
    case cli::bench_output::json:
        out = "{\"phase\":\"" + phase_ + "\"";
        for (const auto& [k, v] : kv_) {
            out += ",\"" + k + "\":" + v;
        }
        out += "}";
        break;
    case cli::bench_output::text:
        out = "bench " + phase_ + "\n";
        for (const auto& [k, v] : kv_) {
            out += fmt::format("  {:<24} {}\n", k, v);
        }
        out.pop_back();
        break;
    }
    std::fputs((out + "\n").c_str(), stdout);
    std::fflush(stdout);
}

}  // namespace rpcnetd::app
