// The binary's exit-code contract (DESIGN.md §5): usage and configuration errors exit 2 with a
// one-line reason on stderr.
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace std::chrono_literals;
using rpcnetd::test::rpcnetd_binary;
using rpcnetd::test::run_command;

namespace {
std::size_t lines(const std::string& s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}
} // namespace

TEST_CASE("cli process: unknown flag exits 2 with one line", "[cli][integration]") {
    auto r = run_command({rpcnetd_binary(), "--bogus"}, 10s);
    CHECK(r.exit_code == 2);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("--bogus") != std::string::npos);

    auto r2 = run_command({rpcnetd_binary(), "worker", "--bogus"}, 10s);
    CHECK(r2.exit_code == 2);
    CHECK(lines(r2.output) == 1);
}

TEST_CASE("cli process: unreadable certificate exits 2 with one line", "[cli][integration]") {
    auto r = run_command({rpcnetd_binary(), "director", "--cert", "/nonexistent/cert.pem"}, 10s);
    CHECK(r.exit_code == 2);
    CHECK(lines(r.output) == 1);
    CHECK(r.output.find("/nonexistent/cert.pem") != std::string::npos);
}

TEST_CASE("cli process: help and version exit 0", "[cli][integration]") {
    auto r = run_command({rpcnetd_binary(), "--help"}, 10s);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("director") != std::string::npos);
    auto v = run_command({rpcnetd_binary(), "--version"}, 10s);
    CHECK(v.exit_code == 0);
    CHECK(v.output.find("rpcnetd ") == 0);
    for (const char* mode : {"director", "worker", "client", "members", "events", "bench"}) {
        auto h = run_command({rpcnetd_binary(), mode, "--help"}, 10s);
        CHECK(h.exit_code == 0);
        CHECK(h.output.find("--log-level") != std::string::npos);
    }
}

TEST_CASE("cli process: a name and tags too large for one gossip datagram exit 2 with the reason",
          "[cli][integration]") {
    const std::string addr = "127.0.0.1:" + std::to_string(rpcnetd::test::free_port());
    std::vector<std::string> argv{rpcnetd_binary(), "worker", "--addr", addr, "--join", addr,
                                  "--label", std::string(200, 'w')};
    for (int i = 0; i < 5; ++i) {  // each flag is valid alone; together they do not fit
        argv.push_back("--tag");
        argv.push_back("k" + std::to_string(i) + "=" + std::string(250, 'v'));
    }
    auto r = run_command(argv, 20s);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("gossip datagram") != std::string::npos);
    CHECK(lines(r.output) == 1);  // nothing started, nothing else said
}
