// Fence probe (CMakeLists.txt, "fence:" tests): a pure core that reads the monotonic clock must
// not compile; it is given common::time_point values instead.
#include "common/time.hpp"

long rpcnetd_fence_probe() {
    return static_cast<long>(rpcnetd::common::clock::now().time_since_epoch().count());
}
