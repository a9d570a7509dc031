// The binary's exit-code contract (DESIGN.md §5): usage and configuration errors exit 2 with a
// one-line reason on stderr.
#include "support/key_file.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

using namespace std::chrono_literals;
using rpcnetd::test::rpcnetd_binary;
using rpcnetd::test::run_command;

namespace {
std::size_t lines(const std::string& s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}
}  // namespace

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

TEST_CASE("cli process: a key file that group or others can read exits 2 naming chmod 600",
          "[cli][integration]") {
    const std::string certs = rpcnetd::test::source_dir() + "/certs/";
    const std::string addr = "127.0.0.1:" + std::to_string(rpcnetd::test::free_port());
    const std::vector<std::string> dev{"--cert", certs + "test_cert.pem", "--key",
                                       certs + "test_key.pem"};
    SECTION("gossip key") {
        const rpcnetd::test::gossip_key_file key;
        ::chmod(key.path().c_str(), 0644);
        std::vector<std::string> argv{rpcnetd_binary(), "director", "--addr", addr,
                                      "--gossip-key",   key.path()};
        argv.insert(argv.end(), dev.begin(), dev.end());
        auto r = run_command(argv, 10s);
        CHECK(r.exit_code == 2);
        CHECK(lines(r.output) == 1);
        CHECK(r.output.find("chmod 600 " + key.path()) != std::string::npos);
    }
    SECTION("TLS private key (not the development pair)") {
        const std::string dir = "/tmp/rpcnetd-cli-key-" + std::to_string(::getpid());
        REQUIRE(run_command({"/bin/mkdir", "-p", dir}, 5s).exit_code == 0);
        REQUIRE(run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                             "/CN=localhost", "-keyout", dir + "/k.pem", "-out", dir + "/c.pem"},
                            20s)
                    .exit_code == 0);
        ::chmod((dir + "/k.pem").c_str(), 0640);
        auto r = run_command({rpcnetd_binary(), "worker", "--addr", addr, "--cert", dir + "/c.pem",
                              "--key", dir + "/k.pem"},
                             10s);
        run_command({"/bin/rm", "-rf", dir}, 5s);
        CHECK(r.exit_code == 2);
        CHECK(lines(r.output) == 1);
        CHECK(r.output.find("chmod 600 " + dir + "/k.pem") != std::string::npos);
    }
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
    std::vector<std::string> argv{rpcnetd_binary(), "worker", "--addr",  addr,
                                  "--join",         addr,     "--label", std::string(200, 'w')};
    for (int i = 0; i < 5; ++i) {  // each flag is valid alone; together they do not fit
        argv.push_back("--tag");
        argv.push_back("k" + std::to_string(i) + "=" + std::string(250, 'v'));
    }
    auto r = run_command(argv, 20s);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("gossip datagram") != std::string::npos);
    CHECK(lines(r.output) == 1);  // nothing started, nothing else said
}
