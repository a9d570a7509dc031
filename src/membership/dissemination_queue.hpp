#pragma once
// Piggyback queue for membership updates (SWIM §4.1 "infection-style dissemination"; memberlist's
// TransmitLimitedQueue). Each update is keyed by the member it is about: a newer update about the
// same member replaces the older one. Every time an update is packed into a datagram its transmit
// count grows; at the limit (retransmit_mult * ceil(log10(N + 1)), computed by swim_state) it is
// dropped. Packing order: refutations (our own alive) first, then fewest transmissions (= newest),
// then most recently queued.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace rpcnetd::membership {

class dissemination_queue {
public:
    // Queues (or replaces) the update about `key`. encoded: one message as encode_message made it.
    void enqueue(const std::string& key, std::vector<std::uint8_t> encoded, bool priority = false);

    // Takes as many updates as fit into `budget` bytes, best first, counting one transmission
    // for each; updates reaching `limit` transmissions are dropped. At most max_count updates.
    std::vector<std::vector<std::uint8_t>> take(std::size_t budget, std::uint32_t limit,
                                                std::size_t max_count = 254);

    bool empty() const { return order_.empty(); }
    std::size_t size() const { return order_.size(); }
    void clear();

    // Transmissions so far of the update about key (tests); -1 when none is queued.
    int transmits(const std::string& key) const;

private:
    // (priority rank 0 first, transmits ascending, newest id first, key)
    using order_key = std::tuple<int, std::uint32_t, std::int64_t, std::string>;
    struct entry {
        std::vector<std::uint8_t> encoded;
        order_key key;
    };
    std::map<std::string, entry> by_key_;
    std::set<order_key> order_;
    std::int64_t next_id_ = 0;
};

}  // namespace rpcnetd::membership
