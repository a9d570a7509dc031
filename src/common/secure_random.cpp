#include "common/secure_random.hpp"

#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>

namespace rpcnetd::common {

std::uint64_t secure_random_u64() {
    unsigned char buf[sizeof(std::uint64_t)];
    if (RAND_bytes(buf, sizeof buf) != 1) {
        std::abort();
    }
    std::uint64_t v = 0;
    std::memcpy(&v, buf, sizeof v);
    return v;
}

}  // namespace rpcnetd::common
