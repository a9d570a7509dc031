#pragma once
// SWIM + Lifeguard timing parameters (DESIGN.md §6). Every field is a command-line flag.
#include <chrono>
#include <cstdint>

namespace rpcnetd::membership {

struct swim_config {
    std::chrono::milliseconds probe_interval{200};  // one probe per period
    std::chrono::milliseconds probe_timeout{100};   // direct ack wait before ping-req
    std::uint32_t indirect_probes = 3;              // k members asked to ping-req
    std::uint32_t suspicion_mult = 2;               // Lifeguard min timeout = mult*log10(N)*period
    std::uint32_t suspicion_max_mult = 6;           // max timeout = max_mult * min timeout
    std::uint32_t suspicion_confirmations = 2;      // K: confirmations that shrink max to min
    std::uint32_t awareness_max = 8;                // local health multiplier cap (Lifeguard LHM)
    std::uint32_t retransmit_mult = 4;              // lambda in lambda*ceil(log(N+1))
    std::uint32_t gossip_fanout = 3;                // members gossiped to per gossip interval
    std::chrono::milliseconds gossip_interval{50};  // only sent while there is news
    std::chrono::milliseconds push_pull_interval{15000};
    std::chrono::milliseconds reconnect_interval{5000};  // retry failed members and seeds
    std::chrono::milliseconds reap_after{30000};         // failed/left retained this long
    double phi_threshold = 8.0;                          // out-of-turn probe when crossed
    std::uint32_t max_datagram = 1400;                   // bytes
    // Bytes of max_datagram the shell keeps for its encryption envelope (nonce + tag + version);
    // the SWIM payload is at most max_datagram - envelope_reserve.
    std::uint32_t envelope_reserve = 0;
    // True when the shell authenticates every datagram before the core sees it (--gossip-key).
    // Without it, a datagram's source address may be spoofed, so replies to a source that is not
    // a known member are never larger than the datagram that caused them (no piggybacked
    // updates; a reply that would still be larger is not sent) and are limited to
    // unknown_reply_rate per second per source: the node cannot amplify traffic at a victim.
    bool authenticated = false;
    std::uint32_t unknown_reply_rate = 10;       // replies/s (and burst) per unknown source; no key
    std::uint32_t unknown_reply_sources = 1024;  // sources tracked for that limit (memory bound)
    // Members not known before that one push-pull state may add (--max-push-pull-members); the
    // rest are dropped and counted (push_pull_members_dropped), so one peer cannot inject
    // thousands of members. Known members are always merged.
    std::uint32_t max_push_pull_members = 1024;
    // Phi accrual detector per member (failure/phi_detector.hpp explains each parameter).
    std::chrono::milliseconds phi_min_std_deviation{100};
    std::chrono::milliseconds phi_acceptable_pause{0};
    std::chrono::milliseconds phi_first_heartbeat{1000};
    std::uint32_t phi_max_samples = 200;
};

}  // namespace rpcnetd::membership
