#include "balance/admission_queue.hpp"

#include <algorithm>

namespace rpcnetd::balance {

admission_queue::admission_queue(admission_config config, ticket first_ticket)
    : config_(config), next_(first_ticket == 0 ? 1 : first_ticket) {}

std::optional<admission_queue::place> admission_queue::enqueue(std::string_view client,
                                                               common::time_point now) {
    if (full()) {
        return std::nullopt;
    }
    const ticket id = next_++;
    if (next_ == 0) {
        next_ = 1;
    }
    order_.push_back(entry{id, std::string(client), now + config_.timeout, false, now});
    index_.emplace(id, std::prev(order_.end()));
    return place{id, order_.size()};
}

std::optional<std::size_t> admission_queue::position(ticket id, std::string_view client) const {
    const auto it = index_.find(id);
    if (it == index_.end() || it->second->client != client) {
        return std::nullopt;
    }
    std::size_t pos = 1;
    for (auto e = order_.begin(); e != it->second; ++e) {
        ++pos;
    }
    return pos;
}

bool admission_queue::set_active(ticket id, bool is_active, common::time_point now) {
    const auto it = index_.find(id);
    if (it == index_.end()) {
        return false;
    }
    if (it->second->active && !is_active) {
        it->second->inactive_since = now;
    }
    it->second->active = is_active;
    return true;
}

bool admission_queue::active(ticket id) const {
    const auto it = index_.find(id);
    return it != index_.end() && it->second->active;
}

common::time_point admission_queue::deadline(ticket id) const {
    const auto it = index_.find(id);
    return it == index_.end() ? common::time_point::max() : it->second->deadline;
}

bool admission_queue::remove(ticket id) {
    const auto it = index_.find(id);
    if (it == index_.end()) {
        return false;
    }
    order_.erase(it->second);
    index_.erase(it);
    return true;
}

std::vector<admission_queue::ticket> admission_queue::expire(common::time_point now) {
    std::vector<ticket> gone;
    for (auto it = order_.begin(); it != order_.end();) {
        const bool timed_out = now >= it->deadline;
        const bool abandoned = !it->active && now - it->inactive_since >= config_.rejoin_grace;
        if (timed_out || abandoned) {
            gone.push_back(it->id);
            index_.erase(it->id);
            it = order_.erase(it);
        } else {
            ++it;
        }
    }
    return gone;
}

std::vector<admission_queue::ticket> admission_queue::in_order() const {
    std::vector<ticket> out;
    out.reserve(order_.size());
    for (const auto& e : order_) {
        out.push_back(e.id);
    }
    return out;
}

std::chrono::milliseconds admission_queue::retry_after(common::time_point now) const {
    using std::chrono::milliseconds;
    auto left = config_.retry_after_max;
    if (!order_.empty()) {
        left =
            std::min(left, std::chrono::duration_cast<milliseconds>(order_.front().deadline - now));
    }
    return std::max(left, milliseconds(100));
}

}  // namespace rpcnetd::balance
