#include "balance/load_index.hpp"

namespace rpcnetd::balance {

void load_index::set(std::string_view name, std::uint32_t load, std::uint32_t capacity) {
    const auto it = entries_.find(name);
    if (it == entries_.end()) {
        entries_.emplace(name, entry{name, load, capacity});
        by_load_.insert({load, name});
        by_name_.insert(name);
        return;
    }
    if (it->second.load != load) {
        by_load_.erase({it->second.load, name});
        by_load_.insert({load, name});
        it->second.load = load;
    }
    it->second.capacity = capacity;
}

void load_index::erase(std::string_view name) {
    const auto it = entries_.find(name);
    if (it == entries_.end()) {
        return;
    }
    by_load_.erase({it->second.load, name});
    by_name_.erase(name);
    entries_.erase(it);
}

load_index::entry load_index::nth_by_load(std::size_t k) const {
    return at(by_load_.find_by_order(k)->second);
}

std::size_t load_index::count_below(std::uint32_t load) const {
    return by_load_.order_of_key({load, std::string_view{}});
}

load_index::entry load_index::nth_by_name(std::size_t k) const {
    return at(*by_name_.find_by_order(k));
}

std::optional<load_index::entry> load_index::next_by_name(std::string_view name) const {
    const auto it = by_name_.upper_bound(name);
    if (it == by_name_.end()) {
        return std::nullopt;
    }
    return at(*it);
}

}  // namespace rpcnetd::balance
