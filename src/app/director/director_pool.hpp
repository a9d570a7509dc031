#pragma once
// The director's shell around balance::worker_registry: feeds it membership, runs one direct
// health check per worker (Worker.Health over a kept-open TLS connection), and reports when the
// set of assignable workers changes.
//
// Which workers are checked how often (a budget, so that an idle pool of hundreds costs little:
// 99 workers checked every 100 ms were 1,000 TLS calls/s and 7.7 % of a core):
//   - every health_interval: workers with streams or leases (the ones clients are being sent to),
//     workers whose last check failed or timed out, and a worker whose kept-open connection has
//     just closed (a killed or restarted process resets it: that is checked within one interval);
//   - otherwise (idle: no streams, no leases, passing) every max(10 x health_interval, N / 10 s)
//     for N workers: at most 10 idle checks per second over the pool. Gossip already proves an
//     idle worker alive, and a hung one (SIGSTOP) turns suspect after a missed probe, which takes
//     it out of assignment as well.
// The loop wakes every health_interval either way (all loops at the same instant: one wake-up of
// the process per interval), so a worker that gets a lease is checked at the next tick.
//
// Health: a refused or reset connection marks the worker unhealthy at once (a kill -9 closes its
// sockets, so the director stops assigning it within one interval); two timed-out checks in a row
// do too (a hung process), so one slow answer on a loaded machine does not. A passing check marks
// it healthy again. Single executor (the director's io thread).
#include "balance/tag_filter.hpp"
#include "balance/worker_registry.hpp"
#include "common/metrics.hpp"
#include "common/random.hpp"
#include "common/time.hpp"
#include "membership/member.hpp"
#include "net/asio.hpp"
#include "net/task_group.hpp"
#include "rpc/channel.hpp"

#include <boost/asio/ssl/context.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace rpcnetd::app {

// The director's own view of one worker's health check (members, /metrics).
struct worker_health {
    enum class state { unknown, ok, failing };
    state st = state::unknown;  // unknown: not checked yet (or not a worker)
    double rtt_ms = 0;          // round trip of the last passing check
};
std::string_view to_string(worker_health::state s);

// Health-check outcomes since start (for /metrics).
struct health_counters {
    std::uint64_t passed = 0;
    std::uint64_t failed = 0;            // refused, reset, or an error answer
    std::uint64_t timed_out = 0;         // no answer within the call timeout
    std::uint64_t marked_unhealthy = 0;  // workers taken out of assignment by a failing check
};

class director_pool {
public:
    director_pool(net::asio::any_io_executor ex, std::string_view strategy,
                  balance::strategy_options strategy_options,
                  std::chrono::milliseconds health_interval,
                  std::shared_ptr<boost::asio::ssl::context> tls, rpc::channel_options opts);

    // Called (synchronously) whenever the assignable set changes (also when a full worker frees
    // up).
    void on_change(std::function<void()> f) { on_change_ = std::move(f); }
    // After a certificate reload (SIGHUP): new health-check connections use this context.
    void set_client_tls(std::shared_ptr<boost::asio::ssl::context> tls) { tls_ = std::move(tls); }

    void update(const membership::member& m);
    void sync(const std::vector<membership::member>& view);
    // `director --simulate-workers N` (benchmarks only): N alive workers that exist in the pool
    // but not in membership; never health-checked, never contacted. Names sim-worker-1..N.
    void add_simulated_workers(std::uint32_t n);

    // owner: the caller's identity (rpc::call_context::peer_identity); the lease is bound to it.
    std::optional<balance::assignment> assign(const balance::tag_filter& filter,
                                              std::span<const std::string> exclude,
                                              std::string_view owner,
                                              std::string_view affinity_key = {});
    balance::availability check(const balance::tag_filter& filter,
                                std::span<const std::string> exclude) const;
    // Ends a lease when `owner` holds it; a worker that had reached its capacity may be assignable
    // again (on_change).
    balance::release_result release(balance::lease_id id, std::string_view owner);
    void mark_unhealthy(const std::string& name);
    std::uint32_t connections(const std::string& name) const;
    std::vector<balance::pool_entry> rows() const;
    worker_health health(const std::string& name) const;
    std::size_t lease_count() const { return registry_.lease_count(); }
    const health_counters& health_stats() const { return health_stats_; }
    const common::metrics::histogram& health_rtt() const { return health_rtt_; }

    // Ends the health checks.
    net::awaitable<void> stop();

private:
    net::awaitable<void> health_loop(std::string name, common::endpoint addr);
    struct health_outcome {
        bool ok = false;
        bool hard_failure = false;  // refused, reset or failed: not a timeout
    };
    net::awaitable<health_outcome> check_once(const std::string& name, const common::endpoint& addr,
                                              rpc::channel& conn,
                                              std::optional<std::uint32_t>& last_active);
    void record_outcome(const std::string& name, health_outcome outcome, int& timeouts);
    void set_health(const std::string& name, bool healthy);
    void notice_changes();
    // How long an idle, passing worker goes between checks (see the header comment).
    std::chrono::milliseconds idle_check_period() const;
    // The next health tick after now, the same instant for every worker's loop.
    common::time_point next_tick(common::time_point now) const;

    net::asio::any_io_executor ex_;
    std::chrono::milliseconds interval_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    rpc::channel_options opts_;
    balance::worker_registry registry_;
    common::rng rng_;
    std::function<void()> on_change_;
    std::set<std::string> checking_;
    std::set<std::string> failing_;                // marked unhealthy by our own checks
    std::map<std::string, worker_health> health_;  // workers with a running health loop
    health_counters health_stats_;
    common::metrics::histogram health_rtt_{common::metrics::latency_buckets()};
    std::uint64_t last_assignable_ = 0;  // registry_.assignable_version() last noticed
    std::vector<balance::member_snapshot> simulated_;
    bool stopping_ = false;
    net::task_group tasks_;  // last: the health loops
};

}  // namespace rpcnetd::app
