#include "membership/dissemination_queue.hpp"

namespace rpcnetd::membership {

void dissemination_queue::enqueue(const std::string& key, std::vector<std::uint8_t> encoded,
                                  bool priority) {
    if (auto it = by_key_.find(key); it != by_key_.end()) {
        order_.erase(it->second.key);
        by_key_.erase(it);
    }
    order_key k{priority ? 0 : 1, 0u, -(next_id_++), key};
    order_.insert(k);
    by_key_.emplace(key, entry{std::move(encoded), std::move(k)});
}

std::vector<std::vector<std::uint8_t>>
dissemination_queue::take(std::size_t budget, std::uint32_t limit, std::size_t max_count) {
    std::vector<std::vector<std::uint8_t>> out;
    std::vector<order_key> taken;
    for (const auto& k : order_) {
        if (out.size() >= max_count || budget < 3) {
            break;
        }
        const auto& e = by_key_.at(std::get<3>(k));
        if (e.encoded.size() > budget) {
            continue;
        }
        budget -= e.encoded.size();
        out.push_back(e.encoded);
        taken.push_back(k);
    }
    for (auto& k : taken) {
        order_.erase(k);
        auto it = by_key_.find(std::get<3>(k));
        std::get<1>(k) += 1;
        if (std::get<1>(k) >= limit) {
            by_key_.erase(it);
            continue;
        }
        it->second.key = k;
        order_.insert(k);
    }
    return out;
}

void dissemination_queue::clear() {
    by_key_.clear();
    order_.clear();
}

int dissemination_queue::transmits(const std::string& key) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
        return -1;
    }
    return static_cast<int>(std::get<1>(it->second.key));
}

}  // namespace rpcnetd::membership
