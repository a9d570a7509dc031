#pragma once
// Power of two choices (Mitzenmacher 2001; envoy's least_request): draw two distinct candidates at
// random and take the less loaded one, load measured relative to capacity (active / capacity, a
// worker without a capacity tag counting as capacity 1). Meant for several directors whose counts
// of each other's assignments lag: every director herding onto the one global minimum is what
// least-connections risks there, and two random samples spread a burst instead.
//
// Draws: none for one candidate; otherwise exactly two: i = below(n), then j = below(n - 1),
// shifted past i (j >= i -> j + 1), so the pair is always distinct. Ties go to the first draw.
#include "balance/balancer.hpp"

namespace rpcnetd::balance {

class power_of_two final : public balancer {
public:
    std::string_view name() const noexcept override { return "power-of-two"; }

private:
    std::size_t do_pick(std::span<const backend> candidates, random_source& r,
                        std::string_view key) override;
    // The same two draws over the index's name order: O(log n).
    std::optional<load_index::entry> do_pick_indexed(const load_index& idx, random_source& r,
                                                     std::string_view key) override;
};

}  // namespace rpcnetd::balance
