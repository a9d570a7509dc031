// Placeholder until the bench mode lands with the RPC layer (issue #2).
#include "cli/options.hpp"

#include <iostream>

namespace rpcnetd::app {
int run_bench(const cli::bench_config&) {
    std::cerr << "rpcnetd: mode 'bench' is not built yet (issue #2)\n";
    return 1;
}
} // namespace rpcnetd::app
