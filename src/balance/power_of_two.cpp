#include "balance/power_of_two.hpp"

#include <utility>

namespace rpcnetd::balance {
namespace {

// a / cap(a) < b / cap(b), by cross-multiplication (exact, no division).
bool less_loaded(std::uint32_t a, std::uint32_t a_capacity, std::uint32_t b,
                 std::uint32_t b_capacity) {
    const std::uint64_t cap_a = a_capacity == 0 ? 1 : a_capacity;
    const std::uint64_t cap_b = b_capacity == 0 ? 1 : b_capacity;
    return std::uint64_t{a} * cap_b < std::uint64_t{b} * cap_a;
}

bool less_loaded(const backend& a, const backend& b) {
    return less_loaded(a.active, a.capacity, b.active, b.capacity);
}

// Two distinct uniform indexes below n >= 2 (the draws the header comment describes).
std::pair<std::size_t, std::size_t> two_draws(std::size_t n, random_source& r) {
    const std::size_t first = r.below(n);
    std::size_t second = r.below(n - 1);
    if (second >= first) {
        ++second;
    }
    return {first, second};
}

}  // namespace

std::size_t power_of_two::do_pick(std::span<const backend> candidates, random_source& r,
                                  std::string_view) {
    const std::size_t n = candidates.size();
    if (n == 1) {
        return 0;
    }
    const auto [first, second] = two_draws(n, r);
    return less_loaded(candidates[second], candidates[first]) ? second : first;
}

std::optional<load_index::entry> power_of_two::do_pick_indexed(const load_index& idx,
                                                               random_source& r, std::string_view) {
    if (idx.size() == 1) {
        return idx.nth_by_name(0);
    }
    const auto [i, j] = two_draws(idx.size(), r);
    const auto first = idx.nth_by_name(i);
    const auto second = idx.nth_by_name(j);
    return less_loaded(second.load, second.capacity, first.load, first.capacity) ? second : first;
}

}  // namespace rpcnetd::balance
