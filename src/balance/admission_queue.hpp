#pragma once
// Admission control for Director.Assign (`director --queue-size N --queue-timeout DUR`): when
// every worker matching a request is at capacity, the request takes a place in a bounded FIFO
// instead of failing with NO_WORKERS, and gets a worker as one frees up.
//
// Protocol (DESIGN.md §5, man rpcnetd "Admission control"): the first Assign that finds every
// matching worker full is answered at once with a ticket and its position; the client prints
// `queued` and calls Assign again with the ticket, and that call waits (is "active") until the
// shell hands it a worker or the place times out. A place whose holder does not come back within
// rejoin_grace is given up (the client died between its two calls), so it cannot block the queue.
// A full queue answers RESOURCE_EXHAUSTED with retry_after().
//
// Pure: no clock, no I/O; the shell passes `now` and decides who to wake (it walks in_order()
// and tries to assign each active place, oldest first). Tickets are bound to the client id that
// took them. Not thread-safe: use from the director's strand.
#include "common/time.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rpcnetd::balance {

struct admission_config {
    std::size_t capacity = 128;                       // places; 0 disables queueing
    std::chrono::milliseconds timeout{30000};         // a place lasts this long at most
    std::chrono::milliseconds rejoin_grace{3000};     // time to come back with the ticket
    std::chrono::milliseconds retry_after_max{1000};  // longest retry-after suggested
};

class admission_queue {
public:
    using ticket = std::uint64_t;

    // first_ticket: the shell seeds it randomly; 0 is never issued.
    explicit admission_queue(admission_config config, ticket first_ticket = 1);

    struct place {
        ticket id = 0;
        std::size_t position = 0;  // 1 = next in line
    };
    // A new place at the end, not yet active; nullopt when the queue is full (or disabled).
    std::optional<place> enqueue(std::string_view client, common::time_point now);

    // 1-based position of a ticket held by client; nullopt when unknown, expired or not theirs.
    std::optional<std::size_t> position(ticket id, std::string_view client) const;
    // The holder is back and waiting (active) or its call ended (inactive, e.g. cancelled).
    // False for unknown tickets.
    bool set_active(ticket id, bool active, common::time_point now);
    bool active(ticket id) const;
    common::time_point deadline(ticket id) const;  // time_point::max() for unknown tickets
    bool remove(ticket id);

    // Removes and returns the places whose deadline passed, and the inactive places whose holder
    // did not come back within rejoin_grace (oldest first).
    std::vector<ticket> expire(common::time_point now);

    // Tickets oldest first.
    std::vector<ticket> in_order() const;
    std::size_t size() const noexcept { return order_.size(); }
    bool full() const noexcept { return order_.size() >= config_.capacity; }
    const admission_config& config() const noexcept { return config_; }

    // When a caller turned away by a full queue should try again: when the oldest place ends at
    // the latest (its deadline), but at least 100 ms and at most retry_after_max (a place usually
    // frees much sooner: a stream ends).
    std::chrono::milliseconds retry_after(common::time_point now) const;

private:
    struct entry {
        ticket id;
        std::string client;
        common::time_point deadline;
        bool active = false;
        common::time_point inactive_since;
    };

    admission_config config_;
    ticket next_;
    std::list<entry> order_;
    std::unordered_map<ticket, std::list<entry>::iterator> index_;
};

}  // namespace rpcnetd::balance
