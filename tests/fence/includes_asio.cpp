// Fence probe (CMakeLists.txt, "fence:" tests): a pure core that includes Asio must not compile.
#include <boost/asio.hpp>

int rpcnetd_fence_probe() {
    return 0;
}
