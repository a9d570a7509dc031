// rpcnetd bench: grpc_client flag mapping, percentiles, and the four phases end to end against an
// in-process server (on its own thread, since run_bench owns its io_context and blocks).
#include "app/bench/bench.hpp"
#include "app/bench/bench_stats.hpp"
#include "rpc/loopback.hpp"

#include "common/error.hpp"

#include <thread>

namespace rpcnetd::test {
namespace {

// A bench server on a background thread; stopped and joined by the destructor.
class server_thread {
public:
    server_thread() : lb_(), port_(0) {
        lb_.srv->start();
        port_ = lb_.srv->local_endpoint().port();
        guard_.emplace(lb_.ioc.get_executor());
        thread_ = std::thread([this] { lb_.ioc.run(); });
    }
    ~server_thread() {
        asio::post(lb_.ioc, [this] { guard_.reset(); });
        asio::co_spawn(lb_.ioc, lb_.srv->stop(100ms), asio::detached);
        thread_.join();
        lb_.srv.reset();
    }
    std::uint16_t port() const { return port_; }

private:
    loopback lb_;
    std::uint16_t port_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
    std::thread thread_;
};

cli::bench_config config_for(std::uint16_t port, cli::bench_mode mode) {
    cli::bench_config c;
    c.target = {"127.0.0.1", port};
    c.mode = mode;
    c.common.tls = client_tls();
    c.output = cli::bench_output::result;
    c.server_pid = static_cast<int>(::getpid());
    return c;
}

}  // namespace

TEST_CASE("bench: grpc_client flags map onto bench_config", "[rpc]") {
    const auto c = app::bench_config_from_grpc_flags(
        {"unary", "--port", "50551", "--certdir", "/d", "--server-pid", "42", "--conc", "64",
         "--payload", "64", "--warmup", "1", "--duration=2.5"});
    CHECK(c.mode == cli::bench_mode::unary);
    CHECK(c.target.host == "127.0.0.1");
    CHECK(c.target.port == 50551);
    CHECK(c.common.tls.ca_file == "/d/server.crt");
    CHECK(c.server_pid == 42);
    CHECK(c.concurrency == 64);
    CHECK(c.warmup == std::chrono::milliseconds(1000));
    CHECK(c.duration == std::chrono::milliseconds(2500));
    CHECK(c.output == cli::bench_output::result);
    const auto s = app::bench_config_from_grpc_flags(
        {"stream", "--streams", "16", "--count", "32000", "--warmup-count", "20000"});
    CHECK(s.mode == cli::bench_mode::stream);
    CHECK(s.streams == 16);
    CHECK(s.count == 32000);
    CHECK_THROWS_AS(app::bench_config_from_grpc_flags({"bogus"}), usage_error);
    CHECK_THROWS_AS(app::bench_config_from_grpc_flags({"unary", "--conc", "x"}), usage_error);
    CHECK_THROWS_AS(app::bench_config_from_grpc_flags({"unary", "--nope", "1"}), usage_error);
}

TEST_CASE("bench: nearest-rank percentiles match the harness", "[rpc]") {
    std::vector<std::uint64_t> v;
    for (std::uint64_t i = 1; i <= 100; ++i) {
        v.push_back(i * 1000);  // 1..100 µs
    }
    CHECK(app::percentile_us(v, 0.5) == Approx(51));   // k = round(0.5 * 99) = 50 -> 51 µs
    CHECK(app::percentile_us(v, 0.99) == Approx(99));  // k = round(98.01) = 98
    CHECK(app::percentile_us(v, 1.0) == Approx(100));
    std::vector<std::uint64_t> empty;
    CHECK(app::percentile_us(empty, 0.5) == 0);
}

TEST_CASE("bench: every phase runs against a live server", "[rpc][integration]") {
    server_thread srv;
    SECTION("unary") {
        auto c = config_for(srv.port(), cli::bench_mode::unary);
        c.concurrency = 8;
        c.warmup = 50ms;
        c.duration = 200ms;
        CHECK(app::run_bench(c) == 0);
    }
    SECTION("stream") {
        auto c = config_for(srv.port(), cli::bench_mode::stream);
        c.streams = 4;
        c.count = 5000;
        c.warmup_count = 100;
        CHECK(app::run_bench(c) == 0);
    }
    SECTION("connect") {
        auto c = config_for(srv.port(), cli::bench_mode::connect);
        c.iters = 3;
        c.warmup_iters = 1;
        CHECK(app::run_bench(c) == 0);
    }
    SECTION("idle") {
        auto c = config_for(srv.port(), cli::bench_mode::idle);
        c.streams = 20;
        c.channels = 3;
        CHECK(app::run_bench(c) == 0);
    }
}

}  // namespace rpcnetd::test
