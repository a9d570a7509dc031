#pragma once
// Least connections: the backend with the fewest active streams; ties broken uniformly at random
// among all backends sharing the minimum.
//
// Over a candidate list: a full O(n) scan rather than power-of-two-choices (Mitzenmacher 2001,
// envoy's least_request default): P2C is meant for many balancers with stale counts, where herding
// on the single global minimum is the risk. Here one director holds the counts and the pool is at
// most a few hundred workers, so the scan costs microseconds and gives the stronger guarantee the
// design needs: with exact counts, k concurrent assignments over n workers leave every count within
// +-1 of the others (P2C only compares two random samples, so it can pass over the global minimum
// and let the counts spread further). The random tie break keeps equal-load workers from always
// receiving the first client. Draws: none when the minimum is unique, exactly one (below(ties))
// otherwise; the j-th tied backend in candidate order is chosen.
#include "balance/balancer.hpp"

namespace rpcnetd::balance {

class least_connections final : public balancer {
public:
    std::string_view name() const noexcept override { return "least-connections"; }

private:
    std::size_t do_pick(std::span<const backend> candidates, random_source& r,
                        std::string_view key) override;
    // The least loaded are a prefix of the index's (load, name) order: O(log n).
    std::optional<load_index::entry> do_pick_indexed(const load_index& idx, random_source& r,
                                                     std::string_view key) override;
};

}  // namespace rpcnetd::balance
