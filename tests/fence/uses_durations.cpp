// Fence probe (CMakeLists.txt, "fence:" tests): what pure cores may do -- durations and the time
// points they are given -- still compiles with the fence.
#include "common/time.hpp"

#include <chrono>

rpcnetd::common::time_point rpcnetd_fence_probe(rpcnetd::common::time_point now) {
    using namespace std::chrono_literals;
    const rpcnetd::common::duration d = 1500ms + std::chrono::seconds(2);
    return now + d;
}
