#include "common/large_blocks.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <climits>

namespace rpcnetd::common {

bool return_large_blocks(std::size_t threshold) {
#if defined(__GLIBC__)
    // Setting M_MMAP_THRESHOLD also switches off glibc's dynamic adjustment of it (and of
    // M_TRIM_THRESHOLD), which is the point (see the header).
    if (threshold > static_cast<std::size_t>(INT_MAX)) {
        return false;
    }
    return mallopt(M_MMAP_THRESHOLD, static_cast<int>(threshold)) == 1;
#else
    (void)threshold;
    return false;
#endif
}

}  // namespace rpcnetd::common
