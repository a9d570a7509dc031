#pragma once
// A non-owning, type-erased reference to a 64-bit random bit generator.
//
// Balancers are called with the project's common::rng (std::mt19937_64), but their tests need to
// script the exact draws ("the next random number is 5"). random_source lets both be passed to the
// same code without templates on a virtual interface. It also fixes how a draw becomes an index
// (below()), so a scripted draw maps to a predictable pick on every standard library.
#include "common/random.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>

namespace rpcnetd::balance {

class random_source {
public:
    // g must outlive this object and produce uniformly distributed 64-bit values over the full
    // range (std::mt19937_64 does).
    template <class Generator>
    explicit random_source(Generator& g) noexcept
        : object_(&g), next_([](void* o) -> std::uint64_t {
              return static_cast<std::uint64_t>((*static_cast<Generator*>(o))());
          }) {
        static_assert(Generator::min() == 0 &&
                          Generator::max() == std::numeric_limits<std::uint64_t>::max(),
                      "random_source needs a full-range 64-bit generator");
    }

    // One raw 64-bit draw.
    std::uint64_t next() { return next_(object_); }

    // A uniform index in [0, n) for n > 0 (n == 0 returns 0 without drawing), drawn the way
    // common::random_index draws everywhere: a small draw x always maps to x % n.
    std::size_t below(std::size_t n) {
        auto draw = [this] { return next(); };
        return common::random_index(draw, n);
    }

private:
    void* object_;
    std::uint64_t (*next_)(void*);
};

}  // namespace rpcnetd::balance
