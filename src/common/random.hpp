#pragma once
// Randomness is injected: pure cores take an rng& so tests replay exact decisions from a seed.
#include <cstdint>
#include <random>

namespace rpcnetd::common {

using rng = std::mt19937_64;

// A seed from the OS entropy source, for shells only.
inline std::uint64_t random_seed() {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace rpcnetd::common
