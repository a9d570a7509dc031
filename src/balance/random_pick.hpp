#pragma once
// Uniform random choice among the candidates, ignoring load. One draw per pick
// (random_source::below), so a scripted draw x picks index x % n.
#include "balance/balancer.hpp"

namespace rpcnetd::balance {

class random_pick final : public balancer {
public:
    std::string_view name() const noexcept override { return "random"; }

private:
    std::size_t do_pick(std::span<const backend> candidates, random_source& r,
                        std::string_view) override {
        return r.below(candidates.size());
    }
    std::optional<load_index::entry> do_pick_indexed(const load_index& idx, random_source& r,
                                                     std::string_view) override {
        return idx.nth_by_name(r.below(idx.size()));
    }
};

}  // namespace rpcnetd::balance
