#include "membership/replay_guard.hpp"

#include <algorithm>

namespace rpcnetd::membership {

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
