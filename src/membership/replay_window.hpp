#pragma once
// Anti-replay sliding window for one sender (the IPsec ESP scheme, RFC 4303 §3.4.3, with the
// bitmap of RFC 6479's idea kept simple): a sender stamps every sealed gossip datagram with
// (generation, sequence); the receiver accepts a stamp once.
//
//  - generation: chosen by the sender at start and larger on every restart (the gossip shell
//    uses unix microseconds at start). A larger generation resets the window (the sender
//    restarted); a smaller one is a replay from an earlier life and is refused.
//  - sequence: grows by one per datagram the sender seals (across all its destinations, so a
//    receiver sees gaps; gaps are fine).
//  - window_size: how far behind the highest sequence seen a datagram may arrive and still be
//    accepted (once). Larger tolerates more reordering; each sender costs window_size bits.
//    1024 sender datagrams is far beyond the reordering a LAN produces.
//
// Pure: no clock, no I/O. Not thread-safe (one per sender, owned by replay_guard).
#include <bitset>
#include <cstdint>

namespace rpcnetd::membership {

class replay_window {
public:
    static constexpr std::uint64_t window_size = 1024;

    enum class verdict : std::uint8_t {
        accepted,          // first time seen: recorded
        replayed,          // inside the window and already seen
        too_old,           // more than window_size behind the highest sequence seen
        stale_generation,  // from an earlier generation of the sender
    };

    // Checks a stamp and records it when accepted. The first stamp ever seen is accepted and
    // becomes the baseline. Call only for datagrams that authenticated.
    verdict check(std::uint64_t generation, std::uint64_t sequence);

    bool started() const noexcept { return started_; }
    std::uint64_t generation() const noexcept { return generation_; }
    std::uint64_t highest() const noexcept { return highest_; }

private:
    void reset(std::uint64_t generation, std::uint64_t sequence);

    bool started_ = false;
    std::uint64_t generation_ = 0;
    std::uint64_t highest_ = 0;
    std::bitset<window_size> seen_;  // bit i: sequence highest_ - i was accepted
};

}  // namespace rpcnetd::membership
