#include "membership/replay_guard.hpp"

#include <algorithm>

namespace rpcnetd::membership {
namespace {

void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(v >> shift));
    }
}

std::uint64_t get_u64(std::span<const std::uint8_t> in) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        v = (v << 8) | in[i];
    }
    return v;
}

}  // namespace

std::vector<std::uint8_t> replay_stamp::prepend_to(std::span<const std::uint8_t> payload) const {
    const std::size_t name_len = std::min<std::size_t>(sender.size(), 255);
    std::vector<std::uint8_t> out;
    out.reserve(1 + name_len + 16 + payload.size());
    out.push_back(static_cast<std::uint8_t>(name_len));
    out.insert(out.end(), sender.begin(), sender.begin() + static_cast<std::ptrdiff_t>(name_len));
    put_u64(out, generation);
    put_u64(out, sequence);
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

std::optional<std::pair<replay_stamp, std::span<const std::uint8_t>>>
replay_stamp::split(std::span<const std::uint8_t> plain) {
    if (plain.empty()) {
        return std::nullopt;
    }
    const std::size_t name_len = plain[0];
    // Every length is checked against what remains before it is used.
    if (plain.size() - 1 < name_len + 16) {
        return std::nullopt;
    }
    replay_stamp s;
    s.sender.assign(plain.begin() + 1, plain.begin() + 1 + static_cast<std::ptrdiff_t>(name_len));
    const auto rest = plain.subspan(1 + name_len);
    s.generation = get_u64(rest);
    s.sequence = get_u64(rest.subspan(8));
    return std::pair{std::move(s), rest.subspan(16)};
}

replay_window::verdict replay_guard::check(const replay_stamp& s) {
    auto it = windows_.find(s.sender);
    if (it == windows_.end()) {
        if (windows_.size() >= max_senders_) {
            evict_one();
        }
        it = windows_.emplace(s.sender, slot{}).first;
    }
    const auto v = it->second.window.check(s.generation, s.sequence);
    if (v == replay_window::verdict::accepted) {
        it->second.last_used = ++uses_;
    }
    return v;
}

void replay_guard::evict_one() {
    if (windows_.empty()) {
        return;
    }
    auto oldest =
        std::min_element(windows_.begin(), windows_.end(), [](const auto& a, const auto& b) {
            return a.second.last_used < b.second.last_used;
        });
    windows_.erase(oldest);
}

}  // namespace rpcnetd::membership
