#pragma once
// The UDP shell around swim_state (STYLE.md §2, §3): binds the gossip socket on the member
// address, ticks the core on a timer, reads steady_clock, sends what the core returns, runs
// push-pull exchanges through the transport given at construction (push_pull_transport.hpp),
// seals and opens datagrams with the gossip envelope given in its options (gossip_envelope.hpp),
// and hands member events to the app.
//
// Strand: every method must be called on the executor given to the constructor (one io_context
// thread by default; with more threads pass a strand). The service owns one coroutine (reader,
// ticker and push-pull worker joined with &&), spawned by start() and awaited by stop().
#include "common/endpoint.hpp"
#include "common/random.hpp"
#include "common/time.hpp"
#include "membership/event_damper.hpp"
#include "membership/gossip_envelope.hpp"
#include "membership/member.hpp"
#include "membership/push_pull_transport.hpp"
#include "membership/swim_config.hpp"
#include "membership/swim_state.hpp"
#include "net/asio.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace rpcnetd::membership {

struct swim_service_options {
    swim_config config;
    std::string name;
    common::endpoint addr;  // an IP literal or "localhost"; port 0 binds a free port
    tag_map tags;
    std::vector<common::endpoint> seeds;  // joined at start(); empty: we are the first member
    std::uint32_t generation = 0;         // 0: unix seconds now (restarts win, see member.hpp)
    // SO_RCVBUF, so bursts are not dropped by the kernel. The kernel caps it at
    // net.core.rmem_max; with CAP_NET_ADMIN the shell then retries with SO_RCVBUFFORCE (best
    // effort). Drops that still happen are counted (swim_counters::datagrams_dropped_by_kernel).
    std::size_t receive_buffer = 4 << 20;
    // Anti-replay generation stamped into sealed datagrams (replay_guard.hpp); must grow across
    // restarts. 0: unix microseconds at start().
    std::uint64_t replay_generation = 0;
    // The gossip key (--gossip-key): every datagram is sealed for its receiver and opened here
    // before SWIM sees it (gossip_envelope.hpp); null: gossip is unauthenticated. An
    // authenticated datagram sealed for another member is dropped and counted
    // (datagrams_wrong_receiver), one whose stamp was already accepted likewise
    // (datagrams_replayed); neither is answered.
    std::shared_ptr<const gossip_envelope> envelope;
};

class swim_service {
public:
    using event_handler = std::function<void(const member_event&)>;
    // `push_pull` carries every push-pull exchange (and so joins through seeds); it must outlive
    // the service.
    swim_service(net::asio::any_io_executor ex, swim_service_options options,
                 push_pull_transport& push_pull, event_handler on_event);
    ~swim_service();
    swim_service(const swim_service&) = delete;
    swim_service& operator=(const swim_service&) = delete;

    // Optional: called with the round trip of every acked probe (metrics).
    void set_probe_rtt_observer(std::function<void(common::duration)> fn) {
        on_probe_rtt_ = std::move(fn);
    }

    // Throws usage_error when our own alive message (name, address, tags, plus room for the
    // tags added at run time) would not fit one datagram with the envelope; nobody
    // would ever learn about us. start() checks it too; callers may check before starting
    // anything else.
    void check_self_fits() const;

    // Binds the socket (throws runtime_failure when the address cannot be bound, usage_error
    // when our own name and tags would not fit one datagram), creates the core and spawns the
    // service coroutine, then joins the seeds.
    void start();

    // Graceful leave: gossips "left" and keeps the protocol running until the update has been
    // sent its retransmissions or `drain` passes. Does not stop the service.
    net::awaitable<void> leave(common::duration drain);

    // Cancels the service coroutine and waits for it. Idempotent. No leave is sent: call
    // leave() first for a graceful exit; stopping without it looks like a crash to the others.
    net::awaitable<void> stop();

    // Snapshot (ourselves first); empty before start().
    std::vector<member> members() const;
    std::optional<member> find(const std::string& name) const;
    void set_tags(tag_map tags);
    void probe_now(const std::string& name);
    // Simulated hang: while paused nothing is read, answered, ticked or sent.
    void set_paused(bool paused);
    bool paused() const { return paused_; }
    // The core's counters plus datagrams_dropped_by_kernel, read from the socket on each call
    // (getsockopt SO_MEMINFO; 0 where the kernel does not report it or the socket is closed).
    swim_counters counters() const;
    // Membership updates waiting in the piggyback queue.
    std::size_t queued_broadcasts() const { return state_ ? state_->broadcasts_queued() : 0; }
    // The bound address (with the real port when options.addr.port was 0).
    common::endpoint local_endpoint() const { return self_addr_; }
    const std::string& name() const { return options_.name; }

    // Server side of Membership.PushPull: merges the caller's state and returns ours.
    std::vector<member> handle_push_pull(const std::vector<member>& remote);

private:
    net::awaitable<void> run();
    net::awaitable<void> reader();
    net::awaitable<void> ticker();
    net::awaitable<void> push_puller();
    void dispatch(std::vector<outbound> out);
    void release_held_events();
    void send_datagram(const common::endpoint& to, std::span<const std::uint8_t> payload);
    // Opens, checks the replay stamp; the SWIM payload, or nullopt (dropped and counted).
    std::optional<std::vector<std::uint8_t>> authenticate(std::span<const std::uint8_t> data,
                                                          const net::udp::endpoint& sender);
    void flush_events();
    void report_conflict(const member_event& e);
    void size_receive_buffer();
    std::uint64_t kernel_drops() const;
    std::optional<net::udp::endpoint> resolve(const common::endpoint& e) const;

    net::asio::any_io_executor ex_;
    swim_service_options options_;
    event_handler on_event_;
    push_pull_transport& push_pull_;
    std::optional<envelope_receiver> receiver_;  // with an envelope: opens datagrams
    std::function<void(common::duration)> on_probe_rtt_;
    common::rng rng_;
    common::endpoint self_addr_;
    net::udp::socket socket_;
    int socket_fd_ = -1;  // socket_'s descriptor, for getsockopt from const counters()
    net::asio::steady_timer tick_timer_;
    net::asio::steady_timer wake_;  // wakes push_puller when work is queued
    net::asio::steady_timer done_;  // cancelled when run() has finished
    std::deque<std::pair<common::endpoint, bool>> push_pull_queue_;  // bounded
    net::asio::steady_timer* push_pull_deadline_ = nullptr;          // of the exchange running
    std::unique_ptr<swim_state> state_;
    // Suspicions refuted within one probe interval never reach the application's handler
    // (event_damper.hpp); on_event_ feeds the damper, deliver_ is the application's handler.
    event_damper damper_;
    event_handler deliver_;
    bool paused_ = false;
    bool running_ = false;
    bool stopping_ = false;
    std::uint64_t send_errors_ = 0;
    std::uint64_t replay_generation_ = 0;
    std::uint64_t next_sequence_ = 1;
};

}  // namespace rpcnetd::membership
