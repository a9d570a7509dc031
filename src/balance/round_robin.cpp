#include "balance/round_robin.hpp"

namespace rpcnetd::balance {

std::size_t round_robin::do_pick(std::span<const backend> candidates, random_source& /*r*/,
                                 std::string_view) {
    // Smallest name strictly greater than last_ (the successor), and the smallest name overall
    // (the wrap-around target), in one pass.
    std::size_t successor = candidates.size();
    std::size_t smallest = 0;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const auto n = candidates[i].name;
        if (n < candidates[smallest].name) {
            smallest = i;
        }
        if ((!started_ || n > last_) &&
            (successor == candidates.size() || n < candidates[successor].name)) {
            successor = i;
        }
    }
    const std::size_t chosen = successor == candidates.size() ? smallest : successor;
    last_.assign(candidates[chosen].name);
    started_ = true;
    return chosen;
}

std::optional<load_index::entry> round_robin::do_pick_indexed(const load_index& idx, random_source&,
                                                              std::string_view) {
    std::optional<load_index::entry> next;
    if (started_) {
        next = idx.next_by_name(last_);
    }
    const auto chosen = next ? *next : idx.nth_by_name(0);
    last_.assign(chosen.name);
    started_ = true;
    return chosen;
}

}  // namespace rpcnetd::balance
