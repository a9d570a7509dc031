#include "membership/replay_window.hpp"

namespace rpcnetd::membership {

void replay_window::reset(std::uint64_t generation, std::uint64_t sequence) {
    started_ = true;
    generation_ = generation;
    highest_ = sequence;
    seen_.reset();
    seen_.set(0);
}

replay_window::verdict replay_window::check(std::uint64_t generation, std::uint64_t sequence) {
    if (!started_ || generation > generation_) {
        reset(generation, sequence);
        return verdict::accepted;
    }
    if (generation < generation_) {
        return verdict::stale_generation;
    }
    if (sequence > highest_) {
        const std::uint64_t shift = sequence - highest_;
        if (shift >= window_size) {
            seen_.reset();
        } else {
            seen_ <<= static_cast<std::size_t>(shift);
        }
        seen_.set(0);
        highest_ = sequence;
        return verdict::accepted;
    }
    const std::uint64_t behind = highest_ - sequence;
    if (behind >= window_size) {
        return verdict::too_old;
    }
    const auto bit = static_cast<std::size_t>(behind);
    if (seen_.test(bit)) {
        return verdict::replayed;
    }
    seen_.set(bit);
    return verdict::accepted;
}

}  // namespace rpcnetd::membership
