#pragma once
// The load-balancing strategy interface (STYLE.md §2): given the candidate backends, pick one.
//
// Strategies are pure: no clock, no I/O; randomness comes from the caller. The worker_registry
// builds the candidate list (alive, healthy, filter-matching, not excluded) and calls pick().
// A strategy may keep state between picks (round_robin remembers the last name) and is therefore
// not thread-safe: use one per registry, on the registry's strand.
#include "balance/load_index.hpp"
#include "balance/random_source.hpp"
#include "common/random.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace rpcnetd::balance {

// One candidate as a strategy sees it. The name identifies it across calls (the candidate list
// changes as members join, fail or are filtered); active is the registry's best estimate of the
// streams running on it (reported count + assignments since the report); capacity is its
// capacity tag (0 = none given).
struct backend {
    std::string_view name;
    std::uint32_t active = 0;
    std::uint32_t capacity = 0;
};

class balancer {
public:
    virtual ~balancer() = default;

    // Index into candidates of the chosen backend; nullopt when candidates is empty. key is the
    // client's affinity key (`client --affinity`, "" when none); only affinity reads it.
    std::optional<std::size_t> pick(std::span<const backend> candidates, common::rng& r,
                                    std::string_view key = {}) {
        random_source source(r);
        return pick(candidates, source, key);
    }
    std::optional<std::size_t> pick(std::span<const backend> candidates, random_source& r,
                                    std::string_view key = {}) {
        if (candidates.empty()) {
            return std::nullopt;
        }
        return do_pick(candidates, r, key);
    }

    // The same decision over the registry's index of every assignable worker, when the request
    // has no filter and no exclusion: O(log n) instead of a list of all candidates. The index's
    // name order is the candidate order, so for the same draws this picks the backend pick()
    // would. idx is never empty. nullopt: the strategy needs every candidate (affinity with a
    // key scores them all) and the registry falls back to pick().
    std::optional<load_index::entry> pick_indexed(const load_index& idx, random_source& r,
                                                  std::string_view key = {}) {
        return do_pick_indexed(idx, r, key);
    }

    // The strategy's command-line name ("least-connections", "round-robin", "random",
    // "power-of-two", "affinity").
    virtual std::string_view name() const noexcept = 0;

private:
    // candidates is never empty; the result is < candidates.size().
    virtual std::size_t do_pick(std::span<const backend> candidates, random_source& r,
                                std::string_view key) = 0;
    virtual std::optional<load_index::entry> do_pick_indexed(const load_index&, random_source&,
                                                             std::string_view) {
        return std::nullopt;
    }
};

// Settings only some strategies read.
struct strategy_options {
    double affinity_epsilon = 0.25;  // affinity: a worker may carry up to (1+eps) x the average
};

// The strategy named as on the command line; nullptr for an unknown name.
std::unique_ptr<balancer> make_balancer(std::string_view name, strategy_options options = {});

}  // namespace rpcnetd::balance
