#pragma once
// Affinity: the same key (`client --affinity KEY`) lands on the same worker, with bounded load
// (Mirrokni, Thorup, Zadimoghaddam 2018, "Consistent Hashing with Bounded Loads").
//
// Placement is rendezvous hashing (Thaler & Ravishankar 1998): every candidate gets the score
// hash(key, name) and candidates are tried from the highest score down. The first one whose load
// after this assignment stays within the bound wins:
//     active + 1 <= ceil((1 + epsilon) * (total active + 1) / n)
// At least the least loaded candidate always fits, so a pick never fails. Because a key's order
// depends only on the key and each name, a worker that leaves moves only the keys it held (they
// go to their next choice), and a worker that joins takes only the keys it now scores highest for.
// Keys are moved off their first choice only while it carries more than (1+epsilon) x average.
//
// A request without a key gets the least loaded candidate (first in candidate order on ties).
// Draws: none. The hash is FNV-1a over key, a 0 byte and the name, finished with the splitmix64
// mixer: fixed across platforms and releases, so every director maps a key the same way.
#include "balance/balancer.hpp"

#include <cstdint>

namespace rpcnetd::balance {

class affinity final : public balancer {
public:
    // epsilon >= 0; 0.25 lets a worker carry 25 % more than the average before keys move.
    explicit affinity(double epsilon = 0.25);

    std::string_view name() const noexcept override { return "affinity"; }
    double epsilon() const noexcept { return epsilon_; }

    // The rendezvous score of name for key (exposed for tests and tools).
    static std::uint64_t score(std::string_view key, std::string_view name) noexcept;
    // The most streams one of n candidates may carry after a pick, given total streams before it.
    std::uint64_t bound(std::uint64_t total_active, std::size_t n) const noexcept;

private:
    std::size_t do_pick(std::span<const backend> candidates, random_source& r,
                        std::string_view key) override;
    // Without a key: the least loaded, first by name (as pick()). With one: nullopt, since every
    // candidate's score is needed (rendezvous hashing is O(n) by nature).
    std::optional<load_index::entry> do_pick_indexed(const load_index& idx, random_source& r,
                                                     std::string_view key) override;

    double epsilon_;
};

}  // namespace rpcnetd::balance
