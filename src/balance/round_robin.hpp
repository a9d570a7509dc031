#pragma once
// Round robin by name: each pick takes the backend whose name follows the previously picked name
// in lexicographic order, wrapping to the smallest.
//
// Keyed by name rather than by index because the candidate list changes between picks (filters,
// exclusions, members joining and failing): an index counter would skip or repeat backends when
// the list shrinks, while "next name after the last one" stays fair for any list, in any order.
// Uses no randomness. Cost O(n) per pick over a candidate list, O(log n) over the registry's index.
#include "balance/balancer.hpp"

#include <string>

namespace rpcnetd::balance {

class round_robin final : public balancer {
public:
    std::string_view name() const noexcept override { return "round-robin"; }

private:
    std::size_t do_pick(std::span<const backend> candidates, random_source& r,
                        std::string_view key) override;
    std::optional<load_index::entry> do_pick_indexed(const load_index& idx, random_source& r,
                                                     std::string_view key) override;

    std::string last_;  // name of the previous pick; empty before the first
    bool started_ = false;
};

}  // namespace rpcnetd::balance
