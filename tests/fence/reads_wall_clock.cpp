// Fence probe (CMakeLists.txt, "fence:" tests): a pure core that reads the wall clock must not
// compile.
#include <chrono>

long rpcnetd_fence_probe() {
    return static_cast<long>(std::chrono::system_clock::now().time_since_epoch().count());
}
