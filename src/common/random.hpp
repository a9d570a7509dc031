#pragma once
// Randomness is injected: pure cores take an rng& so tests replay exact decisions from a seed.
//
// Draws become choices one way everywhere (random_index, random_shuffle): the distributions of
// <random> and std::shuffle are implementation-defined, so the same seed would choose differently
// under another standard library. The SWIM state and the balancers both use these.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <random>
#include <utility>

namespace rpcnetd::common {

using rng = std::mt19937_64;

// A seed from the OS entropy source, for shells only.
inline std::uint64_t random_seed() {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

// A uniform index in [0, n) for n > 0 (n <= 1 returns 0 without drawing). `draw()` must return
// uniformly distributed 64-bit values over the full range (common::rng does). Unbiased modulo
// reduction: the top 2^64 mod n values cannot be spread evenly over n buckets, so such a draw is
// rejected and redrawn; any other draw x gives x % n (so a scripted small draw x picks x % n).
template <class Draw>
std::size_t random_index(Draw& draw, std::size_t n) {
    if (n <= 1) {
        return 0;
    }
    const auto bound = static_cast<std::uint64_t>(n);
    const std::uint64_t tail = (0 - bound) % bound;  // 2^64 mod n
    const std::uint64_t last_accepted = std::numeric_limits<std::uint64_t>::max() - tail;
    for (;;) {
        const auto x = static_cast<std::uint64_t>(draw());
        if (x <= last_accepted) {
            return static_cast<std::size_t>(x % bound);
        }
    }
}

// Fisher-Yates shuffle of [first, last) drawing with random_index.
template <class RandomIt, class Draw>
void random_shuffle(RandomIt first, RandomIt last, Draw& draw) {
    const auto n = static_cast<std::size_t>(std::distance(first, last));
    for (std::size_t i = n; i > 1; --i) {
        const std::size_t j = random_index(draw, i);
        using std::swap;
        swap(first[static_cast<std::ptrdiff_t>(i - 1)], first[static_cast<std::ptrdiff_t>(j)]);
    }
}

}  // namespace rpcnetd::common
