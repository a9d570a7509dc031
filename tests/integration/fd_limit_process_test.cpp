// Room for connections (issue 13 item 4): a member raises its soft RLIMIT_NOFILE to the hard
// limit at start, serves more idle clients than the soft limit it inherited, and says once,
// with the numbers, when --max-connections cannot fit even under the hard limit.
#include "support/cluster.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <sys/resource.h>

using namespace std::chrono_literals;
using namespace rpcnetd::test;

namespace {

// "Max open files  <soft>  <hard>  files" from /proc/<pid>/limits.
std::pair<std::string, std::string> open_files_limits(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/limits");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("Max open files", 0) == 0) {
            std::istringstream in(line.substr(std::string("Max open files").size()));
            std::string soft;
            std::string hard;
            in >> soft >> hard;
            return {soft, hard};
        }
    }
    return {};
}

// The worker command run under `ulimit <how>` by sh, which then execs it (same PID).
std::vector<std::string> under_ulimit(const std::string& how, std::vector<std::string> argv) {
    std::vector<std::string> out{"/bin/sh", "-c", "ulimit " + how + " && exec \"$@\"", "sh"};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

std::vector<std::string> worker_argv(cluster& c, const std::string& addr,
                                     std::vector<std::string> extra) {
    std::vector<std::string> argv{rpcnetd_binary(), "worker", "--label", "fd",
                                  "--addr",         addr,     "--join",  c.director_addr()};
    for (auto& f : c.common_flags()) {
        argv.push_back(f);
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

}  // namespace

TEST_CASE("fd limit process: a worker started with soft nofile 64 raises it and serves 200 "
          "idle clients",
          "[integration][fd]") {
    rlimit rl{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 1024) {
        WARN("hard nofile limit " << rl.rlim_max << " leaves no room to test raising it");
        return;
    }
    cluster c;
    const std::string addr = "127.0.0.1:" + std::to_string(free_port());
    child_process w(under_ulimit("-Sn 64", worker_argv(c, addr, {"--max-connections", "500"})));
    REQUIRE(w.wait_for_output("rpc listening", 15s));

    const auto [soft, hard] = open_files_limits(w.pid());
    CHECK(soft == hard);
    CHECK(soft != "64");
    CHECK(w.output().find("file descriptor limit too low") == std::string::npos);

    std::vector<std::string> bench{
        rpcnetd_binary(), "bench", "--mode",    "idle", "--target",     addr,
        "--channels",     "200",   "--streams", "200",  "--server-pid", std::to_string(w.pid()),
        "--output",       "json"};
    for (auto& f : c.common_flags()) {
        bench.push_back(f);
    }
    const auto r = run_command(bench, 60s);
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(json_uint(r.output, "established") == 200U);
    CHECK(json_uint(r.output, "conn_fail") == 0U);
    CHECK(w.running());
}

TEST_CASE("fd limit process: a hard limit below --max-connections is one warning with the "
          "numbers",
          "[integration][fd]") {
    cluster c;
    const std::string addr = "127.0.0.1:" + std::to_string(free_port());
    child_process w(under_ulimit("-n 256", worker_argv(c, addr, {"--max-connections", "1000"})));
    REQUIRE(w.wait_for_output("rpc listening", 15s));
    const std::string out = w.output();
    INFO(out);
    const auto at = out.find("file descriptor limit too low");
    REQUIRE(at != std::string::npos);
    CHECK(out.find("file descriptor limit too low", at + 1) == std::string::npos);
    CHECK(out.find("nofile_soft=256") != std::string::npos);
    CHECK(out.find("max_connections=1000") != std::string::npos);

    const std::string addr2 = "127.0.0.1:" + std::to_string(free_port());
    child_process ok(under_ulimit("-n 256", worker_argv(c, addr2, {"--max-connections", "100"})));
    REQUIRE(ok.wait_for_output("rpc listening", 15s));
    CHECK(ok.output().find("file descriptor limit too low") == std::string::npos);
}
