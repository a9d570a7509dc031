// Fence probe (CMakeLists.txt, "fence:" tests): a pure core that includes the project's Asio
// vocabulary must not compile.
#include "net/asio.hpp"

int rpcnetd_fence_probe() {
    return 0;
}
