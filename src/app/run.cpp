#include "app/run.hpp"

#include <iostream>

namespace rpcnetd::app {

int run_main(int argc, char** argv) {
    (void)argc;
    (void)argv;
    std::cerr << "rpcnetd: not built yet\n";
    return 1;
}

} // namespace rpcnetd::app
