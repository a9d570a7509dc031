#pragma once
// The assignable workers of a pool, indexed so that a balancing decision costs O(log n) instead of
// a walk over every worker (issue #10, "cost per decision": a director with 1,000 workers spent
// most of each Assign walking its pool).
//
// Two orders over the same entries, each with order statistics (the k-th element and the rank of
// a key in O(log n), GCC's policy-based red-black tree):
//   by load: (load, name) ascending. The least loaded worker is the first; the workers tied at the
//            minimum are a prefix, in name order, whose length is the rank of (min + 1, "").
//   by name: name ascending: the order the registry's candidate list always had, so an indexed
//            pick and a pick over the list agree exactly for the same random draws.
// Pure and not thread-safe; names are views into storage the owner keeps alive (the registry's
// map keys) until erase().
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>  // std::less
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace rpcnetd::balance {

class load_index {
public:
    struct entry {
        std::string_view name;
        std::uint32_t load = 0;      // streams the registry counts on it
        std::uint32_t capacity = 0;  // its capacity tag, 0 = none
    };

    // Adds name, or moves it to its new load and capacity. O(log n).
    void set(std::string_view name, std::uint32_t load, std::uint32_t capacity);
    // Removes name (no-op when absent). O(log n).
    void erase(std::string_view name);
    bool contains(std::string_view name) const { return entries_.count(name) != 0; }
    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }

    // The k-th entry by (load, name), k < size(). O(log n).
    entry nth_by_load(std::size_t k) const;
    // How many entries carry a load below `load`. O(log n).
    std::size_t count_below(std::uint32_t load) const;
    // The k-th entry by name, k < size(). O(log n).
    entry nth_by_name(std::size_t k) const;
    // The entry with the smallest name greater than `name`; nullopt when there is none. O(log n).
    std::optional<entry> next_by_name(std::string_view name) const;

private:
    using load_key = std::pair<std::uint32_t, std::string_view>;
    template <class Key>
    using ranked_set =
        __gnu_pbds::tree<Key, __gnu_pbds::null_type, std::less<Key>, __gnu_pbds::rb_tree_tag,
                         __gnu_pbds::tree_order_statistics_node_update>;

    entry at(std::string_view name) const { return entries_.at(name); }

    std::unordered_map<std::string_view, entry> entries_;
    ranked_set<load_key> by_load_;
    ranked_set<std::string_view> by_name_;
};

}  // namespace rpcnetd::balance
