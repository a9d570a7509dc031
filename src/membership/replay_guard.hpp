#pragma once
// Anti-replay for sealed gossip (issue #5): one replay_window per sender name. The stamp a sender
// puts in front of the payload inside the sealed envelope, (sender, generation, sequence) and the
// receiver, is gossip_stamp (gossip_envelope.hpp); this guard checks its first three fields.
//
// Because the stamp is inside the AES-GCM envelope, nobody without the key can forge or alter
// it; a captured datagram replayed later carries a stamp the receiver has already accepted (or
// one older than its window, or from an earlier generation) and is dropped before SWIM sees it.
//
// Limits (documented, not hidden): the first stamp from a sender a receiver has never heard
// from (or has evicted) is the baseline and accepted, so a datagram captured earlier could be
// delivered once to a member that started after it was sent; it then carries only state that
// the SWIM incarnation rules already order. max_senders bounds memory; when full, the sender
// heard from least recently is forgotten (only members holding the key can create senders).
// Generations come from the sender's wall clock at start (like incarnation generations,
// member.hpp): a member restarted after its clock stepped back behind its previous start is
// refused by peers that remember its earlier life, until they forget it. Known limit, kept:
// fixing it needs state on disk (persist the generation, or take max(clock, last + 1) from a
// state file), which members do not have today.
//
// Pure: no clock, no I/O, never throws on network input. Not thread-safe (the shell's strand).
#include "membership/replay_window.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rpcnetd::membership {

// The part of a gossip_stamp the guard checks.
struct replay_stamp {
    std::string sender;
    std::uint64_t generation = 0;
    std::uint64_t sequence = 0;
};

class replay_guard {
public:
    explicit replay_guard(std::size_t max_senders = 4096) : max_senders_(max_senders) {}

    // Checks and records one authenticated stamp.
    replay_window::verdict check(const replay_stamp& s);

    std::size_t senders() const noexcept { return windows_.size(); }

private:
    struct slot {
        replay_window window;
        std::uint64_t last_used = 0;
    };
    void evict_one();

    std::size_t max_senders_;
    std::uint64_t uses_ = 0;
    std::unordered_map<std::string, slot> windows_;
};

}  // namespace rpcnetd::membership
