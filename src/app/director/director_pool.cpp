#include "app/director/director_pool.hpp"

#include "common/log.hpp"
#include "common/safe_text.hpp"
#include "common/secure_random.hpp"
#include "common/tags.hpp"

#include <fmt/format.h>

#include <iostream>

namespace rpcnetd::app {
namespace {

using common::clock;

balance::member_state to_balance(membership::member_status s) {
    switch (s) {
    case membership::member_status::alive:
        return balance::member_state::alive;
    case membership::member_status::suspect:
        return balance::member_state::suspect;
    case membership::member_status::failed:
        return balance::member_state::failed;
    case membership::member_status::left:
        return balance::member_state::left;
    }
    return balance::member_state::failed;
}

balance::member_snapshot to_snapshot(const membership::member& m) {
    balance::member_snapshot s;
    s.name = m.name;
    s.rpc_addr = m.addr;
    s.state = to_balance(m.status);
    s.incarnation = m.incarnation;
    s.tags = m.tags;
    return s;
}

}  // namespace

std::string_view to_string(worker_health::state s) {
    switch (s) {
    case worker_health::state::ok:
        return "ok";
    case worker_health::state::failing:
        return "failing";
    case worker_health::state::unknown:
        break;
    }
    return "unknown";
}

worker_health director_pool::health(const std::string& name) const {
    const auto it = health_.find(name);
    return it == health_.end() ? worker_health{} : it->second;
}

director_pool::director_pool(net::asio::any_io_executor ex, std::string_view strategy,
                             balance::strategy_options strategy_options,
                             std::chrono::milliseconds health_interval,
                             std::shared_ptr<boost::asio::ssl::context> tls,
                             rpc::channel_options opts)
    : ex_(ex), interval_(health_interval), tls_(std::move(tls)), opts_(std::move(opts)),
      registry_(balance::make_balancer(strategy, strategy_options),
                // report_grace: how long a client may take from Assign to a running stream
                // (connect + TLS + first frame) before a report without it counts; generous
                // because a loaded machine stretches that to seconds, and a vanished client
                // only inflates its worker's count for this long.
                balance::registry_config{.report_grace = std::chrono::milliseconds(5000),
                                         .lease_timeout = std::chrono::milliseconds(10000)},
                // Lease ids are capabilities handed to clients: a CSPRNG, not mt19937_64 (whose
                // state a client could recover from the ids it was given).
                &common::secure_random_u64),
      rng_(common::random_seed()), tasks_(ex, "health") {
    // A health check that takes longer than this is a miss; connects get the same budget. It is
    // generous on purpose: a dead worker is caught by its refused connection at once, and a hung
    // one by the clients' reports, so timeouts only need to catch what both miss, and must not
    // drop a worker that is merely slow on a loaded machine.
    opts_.connect_timeout =
        std::max<std::chrono::milliseconds>(interval_ * 10, std::chrono::milliseconds(1000));
}

void director_pool::update(const membership::member& m) {
    registry_.update(to_snapshot(m), clock::now());
    const auto role = m.tags.find(std::string(common::role_tag));
    const bool is_worker = role != m.tags.end() && role->second == common::worker_role;
    if (is_worker && m.status == membership::member_status::alive && !stopping_ &&
        checking_.insert(m.name).second) {
        tasks_.spawn(health_loop(m.name, m.addr));
    }
    notice_changes();
}

void director_pool::sync(const std::vector<membership::member>& view) {
    std::vector<balance::member_snapshot> snaps;
    snaps.reserve(view.size());
    for (const auto& m : view) {
        snaps.push_back(to_snapshot(m));
    }
    snaps.insert(snaps.end(), simulated_.begin(), simulated_.end());
    registry_.sync(snaps, clock::now());
    for (const auto& m : view) {
        update(m);
    }
}

void director_pool::add_simulated_workers(std::uint32_t n) {
    for (std::uint32_t i = 1; i <= n; ++i) {
        balance::member_snapshot s;
        s.name = fmt::format("sim-worker-{}", i);
        // Port 9 (discard) of the TEST-NET-1 documentation range: never reachable, never used.
        s.rpc_addr = {"192.0.2.1", 9};
        s.incarnation = 1;
        s.tags = {{std::string(common::role_tag), std::string(common::worker_role)},
                  {std::string(common::label_tag), s.name},
                  {std::string(common::active_streams_tag), "0"}};
        registry_.update(s, clock::now());
        simulated_.push_back(std::move(s));
    }
    notice_changes();
}

std::optional<balance::assignment> director_pool::assign(const balance::tag_filter& filter,
                                                         std::span<const std::string> exclude,
                                                         std::string_view owner,
                                                         std::string_view affinity_key) {
    auto r = registry_.assign(filter, exclude, clock::now(), rng_, owner, affinity_key);
    if (auto* a = std::get_if<balance::assignment>(&r)) {
        return *a;
    }
    return std::nullopt;
}

balance::availability director_pool::check(const balance::tag_filter& filter,
                                           std::span<const std::string> exclude) const {
    return registry_.check(filter, exclude, clock::now());
}

balance::release_result director_pool::release(balance::lease_id id, std::string_view owner) {
    const auto out = registry_.release_frees(id, owner, clock::now());
    if (out.freed) {
        notice_changes();
    }
    return out.result;
}

void director_pool::mark_unhealthy(const std::string& name) {
    registry_.mark_unhealthy(name, clock::now());
    notice_changes();
}

std::uint32_t director_pool::connections(const std::string& name) const {
    return registry_.connections(name, clock::now()).value_or(0);
}

std::vector<balance::pool_entry> director_pool::rows() const {
    return registry_.pool(clock::now());
}

void director_pool::set_health(const std::string& name, bool healthy) {
    // Only a change is worth comparing the pool (every worker passes a check every interval:
    // rebuilding the pool view for each pass was most of an idle director's CPU).
    bool changed = false;
    if (healthy) {
        if (failing_.erase(name) != 0) {
            common::logger("lb").info("health check passes again worker={}", name);
        }
        changed = registry_.pool_healthy(name) == false;
        registry_.mark_healthy(name);
    } else if (failing_.insert(name).second) {
        ++health_stats_.marked_unhealthy;
        std::cout << fmt::format("🩺 Worker {} failed its health check: not assigning it",
                                 common::escape_text(name))
                  << std::endl;
        registry_.mark_unhealthy(name, clock::now());
        changed = true;
    }
    if (changed) {
        notice_changes();
    }
}

void director_pool::notice_changes() {
    // A version, not a list of the assignable names: this runs after every membership event and
    // every Release that frees a full worker, and building the list walked the whole pool.
    const auto version = registry_.assignable_version();
    if (version != last_assignable_) {
        last_assignable_ = version;
        if (on_change_) {
            on_change_();
        }
    }
}

// One Worker.Health check: connects when the kept-open connection is closed, then calls.
// A timed-out connect or call is not a hard failure (see record_outcome).
net::awaitable<director_pool::health_outcome>
director_pool::check_once(const std::string& name, const common::endpoint& addr, rpc::channel& conn,
                          std::optional<std::uint32_t>& last_active) {
    const auto call_timeout = opts_.connect_timeout;
    bool ok = false;
    bool hard_failure = false;
    if (!conn.is_open()) {
        auto r = co_await rpc::channel::connect(ex_, addr, tls_, opts_);
        if (r) {
            conn = *r;
        } else {
            hard_failure = r.error() != make_error_code(errc::deadline_exceeded) &&
                           r.error() != make_error_code(errc::handshake_timeout);
        }
    }
    if (conn.is_open()) {
        const auto sent = clock::now();
        auto res = co_await conn.unary("Worker.Health", {}, call_timeout);
        ok = res.st.ok();
        if (ok) {
            const std::chrono::duration<double> rtt = clock::now() - sent;
            health_rtt_.observe(rtt.count());
            health_[name].rtt_ms = rtt.count() * 1000.0;
        }
        v1::HealthResponse health;
        if (ok && health.ParseFromString(res.response)) {
            registry_.observe_streams(name, health.active_streams(), clock::now());
            if (last_active != health.active_streams()) {
                last_active = health.active_streams();
                notice_changes();  // a full worker may have freed up
            }
        }
        if (!ok) {
            hard_failure = res.st.code != v1::DEADLINE_EXCEEDED;
            conn.close();
        }
    }
    co_return health_outcome{ok, hard_failure};
}

// Counts the check and moves the worker's health: a pass marks it healthy at once, a hard
// failure or a second timeout in a row unhealthy.
void director_pool::record_outcome(const std::string& name, health_outcome outcome, int& timeouts) {
    const bool ok = outcome.ok;
    const bool hard_failure = outcome.hard_failure;
    timeouts = ok || hard_failure ? 0 : timeouts + 1;
    ++(ok ? health_stats_.passed : hard_failure ? health_stats_.failed : health_stats_.timed_out);
    if (ok) {
        health_[name].st = worker_health::state::ok;
    } else if (hard_failure || timeouts >= 2) {
        health_[name].st = worker_health::state::failing;
    }
    if (ok) {
        set_health(name, true);
    } else if (hard_failure || timeouts >= 2) {
        set_health(name, false);
    }
}

net::awaitable<void> director_pool::health_loop(std::string name, common::endpoint addr) {
    net::asio::steady_timer pause(ex_);
    rpc::channel conn;
    int timeouts = 0;
    std::optional<std::uint32_t> last_active;
    auto next_idle_check = clock::now();  // the first check is at once
    bool was_open = false;
    while (!stopping_) {
        const auto tracked = registry_.rpc_addr_of(name);  // not a copy of the pool per check
        if (!tracked) {
            break;  // failed, left or reaped: membership owns it now
        }
        if (*tracked != addr) {
            // The name was taken over at another address (a restart elsewhere, issue #14):
            // check the new holder, not the dead address.
            addr = *tracked;
            conn.close();
            timeouts = 0;
            next_idle_check = clock::now();
        }
        // Which workers are worth a Worker.Health call this interval (see the header comment).
        const auto now = clock::now();
        const bool dropped = was_open && !conn.is_open();  // killed, restarted or hung up on us
        const auto st = health_[name].st;
        if (!dropped && now < next_idle_check && timeouts == 0 && st == worker_health::state::ok &&
            registry_.connections(name, now).value_or(0) == 0) {
            pause.expires_at(next_tick(clock::now()));
            auto [ec] = co_await pause.async_wait(net::use_tuple);
            if (ec) {
                break;
            }
            continue;
        }
        const health_outcome outcome = co_await check_once(name, addr, conn, last_active);
        record_outcome(name, outcome, timeouts);
        was_open = conn.is_open();
        next_idle_check = clock::now() + idle_check_period();
        pause.expires_at(next_tick(clock::now()));
        auto [ec] = co_await pause.async_wait(net::use_tuple);
        if (ec) {
            break;
        }
    }
    conn.close();
    checking_.erase(name);
    failing_.erase(name);
    health_.erase(name);
}

common::time_point director_pool::next_tick(common::time_point now) const {
    // The next multiple of the interval on the steady clock: every worker's loop wakes at the same
    // instant, one wake-up of the process per interval instead of one per worker (on this VM each
    // wake-up cost about 40 us: 99 loops ticking apart were 3.5 % of a core on their own).
    const auto step = std::chrono::duration_cast<common::duration>(interval_);
    if (step.count() <= 0) {
        return now;
    }
    const auto since = now.time_since_epoch();
    return common::time_point(since - since % step + step);
}

std::chrono::milliseconds director_pool::idle_check_period() const {
    // At most idle_checks_per_s idle checks per second over the whole pool, and never more often
    // than every 10 intervals.
    constexpr std::size_t idle_checks_per_s = 10;
    const auto spread = std::chrono::milliseconds(
        static_cast<std::int64_t>(1000 * checking_.size() / idle_checks_per_s));
    return std::max(interval_ * 10, spread);
}

net::awaitable<void> director_pool::stop() {
    stopping_ = true;
    tasks_.cancel();
    co_await tasks_.wait();
}

}  // namespace rpcnetd::app
