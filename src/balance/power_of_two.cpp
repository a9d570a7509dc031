#include "balance/power_of_two.hpp"

namespace rpcnetd::balance {
namespace {

// a.active / cap(a) < b.active / cap(b), by cross-multiplication (exact, no division).
bool less_loaded(const backend& a, const backend& b) {
    const std::uint64_t cap_a = a.capacity == 0 ? 1 : a.capacity;
    const std::uint64_t cap_b = b.capacity == 0 ? 1 : b.capacity;
    return std::uint64_t{a.active} * cap_b < std::uint64_t{b.active} * cap_a;
}

}  // namespace

std::size_t power_of_two::do_pick(std::span<const backend> candidates, random_source& r,
                                  std::string_view) {
    const std::size_t n = candidates.size();
    if (n == 1) {
        return 0;
    }
    const std::size_t first = r.below(n);
    std::size_t second = r.below(n - 1);
    if (second >= first) {
        ++second;
    }
    return less_loaded(candidates[second], candidates[first]) ? second : first;
}

}  // namespace rpcnetd::balance
