// Bench client for the gRPC comparison harness (scripts/bench/grpc-compare.sh), EXTRA_CLIENT
// contract: takes grpc_client's command line and prints one `RESULT phase=... key=value ...`
// line with grpc_client's keys:
//   rpc_bench_client <unary|stream|connect|idle> --port P --certdir DIR --server-pid PID [flags]
// The work itself is rpcnetd's bench mode (app::run_bench), so `rpcnetd bench` measures the same.
#include "app/bench/bench.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    using namespace rpcnetd;
    try {
        common::init_logging("warn", common::log_format::text);
        const std::vector<std::string> args(argv + 1, argv + argc);
        return app::run_bench(app::bench_config_from_grpc_flags(args));
    } catch (const usage_error& e) {
        std::fprintf(stderr, "rpc_bench_client: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rpc_bench_client: %s\n", e.what());
        return 1;
    }
}
