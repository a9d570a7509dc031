#pragma once
// Unpredictable bits from OpenSSL's CSPRNG, for values an attacker must not guess (lease ids,
// probe sequence numbers). Shells only: pure cores take these through an injected source.
#include <cstdint>

namespace rpcnetd::common {

// 64 bits from RAND_bytes; aborts if the CSPRNG cannot be seeded (nothing safe to fall back to).
std::uint64_t secure_random_u64();

}  // namespace rpcnetd::common
