#include "balance/least_connections.hpp"

namespace rpcnetd::balance {

std::size_t least_connections::do_pick(std::span<const backend> candidates, random_source& r,
                                       std::string_view) {
    std::uint32_t minimum = candidates[0].active;
    std::size_t ties = 0;
    for (const auto& b : candidates) {
        if (b.active < minimum) {
            minimum = b.active;
            ties = 1;
        } else if (b.active == minimum) {
            ++ties;
        }
    }
    std::size_t nth = r.below(ties);  // no draw when ties == 1
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (candidates[i].active == minimum) {
            if (nth == 0) {
                return i;
            }
            --nth;
        }
    }
    return 0;  // unreachable: nth < ties
}

std::optional<load_index::entry>
least_connections::do_pick_indexed(const load_index& idx, random_source& r, std::string_view) {
    const std::uint32_t minimum = idx.nth_by_load(0).load;
    // The tied are in name order, as in the candidate list: the same draw picks the same one.
    const std::size_t ties = minimum == UINT32_MAX ? idx.size() : idx.count_below(minimum + 1);
    return idx.nth_by_load(r.below(ties));
}

}  // namespace rpcnetd::balance
