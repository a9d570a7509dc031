#include "balance/affinity.hpp"

#include <cmath>
#include <stdexcept>

namespace rpcnetd::balance {
namespace {

std::uint64_t fnv1a(std::uint64_t h, std::string_view bytes) noexcept {
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

}  // namespace

affinity::affinity(double epsilon) : epsilon_(epsilon) {
    if (!(epsilon >= 0.0) || !std::isfinite(epsilon)) {
        throw std::invalid_argument("affinity epsilon must be a finite number >= 0");
    }
}

std::uint64_t affinity::score(std::string_view key, std::string_view name) noexcept {
    std::uint64_t h = fnv1a(0xcbf29ce484222325ULL, key);
    h = fnv1a(h, std::string_view("\0", 1));
    return splitmix64(fnv1a(h, name));
}

std::uint64_t affinity::bound(std::uint64_t total_active, std::size_t n) const noexcept {
    const double average = static_cast<double>(total_active + 1) / static_cast<double>(n);
    const auto b = static_cast<std::uint64_t>(std::ceil((1.0 + epsilon_) * average));
    return b == 0 ? 1 : b;
}

std::size_t affinity::do_pick(std::span<const backend> candidates, random_source&,
                              std::string_view key) {
    std::uint64_t total = 0;
    std::size_t least = 0;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        total += candidates[i].active;
        if (candidates[i].active < candidates[least].active) {
            least = i;
        }
    }
    if (key.empty()) {
        return least;
    }
    const std::uint64_t limit = bound(total, candidates.size());
    // The highest-scoring candidate that fits; ties in score (never in practice) go to the first.
    std::optional<std::size_t> best;
    std::uint64_t best_score = 0;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (std::uint64_t{candidates[i].active} + 1 > limit) {
            continue;
        }
        const std::uint64_t s = score(key, candidates[i].name);
        if (!best || s > best_score) {
            best = i;
            best_score = s;
        }
    }
    return best.value_or(least);  // the least loaded always fits; value_or is belt and braces
}

std::optional<load_index::entry> affinity::do_pick_indexed(const load_index& idx, random_source&,
                                                           std::string_view key) {
    if (!key.empty()) {
        return std::nullopt;
    }
    return idx.nth_by_load(0);
}

}  // namespace rpcnetd::balance
