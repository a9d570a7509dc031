// Standalone bench server for the gRPC comparison harness (scripts/bench/grpc-compare.sh),
// EXTRA_SERVER contract:
//   rpc_bench_server --port P --certdir DIR [--max-seconds N] [--log-level L]
// serves Bench.Echo and Bench.Stream on 127.0.0.1:P with DIR/server.{crt,key}, prints READY once
// listening, and exits 0 on SIGTERM/SIGINT (after a short drain) or after --max-seconds.
#include "app/bench/bench_service.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "rpc/server.hpp"

#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <unistd.h>

namespace {

using namespace rpcnetd;
namespace asio = net::asio;

net::awaitable<void> serve_until_signal(rpc::server* srv, asio::io_context* ioc, int max_seconds) {
    asio::signal_set signals(ioc->get_executor(), SIGTERM, SIGINT);
    asio::steady_timer limit(ioc->get_executor(), std::chrono::seconds(max_seconds));
    using namespace asio::experimental::awaitable_operators;
    co_await (signals.async_wait(net::use_tuple) || limit.async_wait(net::use_tuple));
    co_await srv->stop(std::chrono::milliseconds(500));
    ioc->stop();
}

}  // namespace

int main(int argc, char** argv) {
    std::string port = "50551";
    std::string certdir = ".";
    std::string level = "warn";
    int max_seconds = 3600;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--port") {
            port = argv[i + 1];
        } else if (k == "--certdir") {
            certdir = argv[i + 1];
        } else if (k == "--max-seconds") {
            max_seconds = std::atoi(argv[i + 1]);
        } else if (k == "--log-level") {
            level = argv[i + 1];
        } else {
            std::fprintf(stderr, "unknown flag %s\n", k.c_str());
            return 2;
        }
    }
    try {
        common::init_logging(level, common::log_format::text);
        asio::io_context ioc{1};
        rpc::server_options o;
        o.listen = {"127.0.0.1", static_cast<std::uint16_t>(std::atoi(port.c_str()))};
        o.tls.cert_file = certdir + "/server.crt";
        o.tls.key_file = certdir + "/server.key";
        o.node_name = "rpc-bench-server";
        rpc::server srv(ioc.get_executor(), o);
        app::register_bench_service(srv, "bench");
        srv.start();
        std::printf("READY port=%u pid=%d\n", srv.local_endpoint().port(),
                    static_cast<int>(::getpid()));
        std::fflush(stdout);
        asio::co_spawn(ioc, serve_until_signal(&srv, &ioc, max_seconds), asio::detached);
        ioc.run();
        return 0;
    } catch (const usage_error& e) {
        std::fprintf(stderr, "rpc_bench_server: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rpc_bench_server: %s\n", e.what());
        return 1;
    }
}
