#include "app/director_pool.hpp"

#include "common/log.hpp"
#include "common/secure_random.hpp"

#include <fmt/format.h>

#include <iostream>

namespace rpcnetd::app {
namespace {

using common::clock;

balance::member_state to_balance(membership::member_status s) {
    switch (s) {
    case membership::member_status::alive: return balance::member_state::alive;
    case membership::member_status::suspect: return balance::member_state::suspect;
    case membership::member_status::failed: return balance::member_state::failed;
    case membership::member_status::left: return balance::member_state::left;
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

} // namespace

director_pool::director_pool(net::asio::any_io_executor ex, std::string_view strategy,
                             std::chrono::milliseconds health_interval,
                             std::shared_ptr<boost::asio::ssl::context> tls,
                             rpc::client_options opts)
    : ex_(ex), interval_(health_interval), tls_(std::move(tls)), opts_(std::move(opts)),
      registry_(balance::make_balancer(strategy),
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
    opts_.connect_timeout = std::max<std::chrono::milliseconds>(interval_ * 10,
                                                                std::chrono::milliseconds(1000));
}

void director_pool::update(const membership::member& m) {
    registry_.update(to_snapshot(m), clock::now());
    const bool is_worker = m.tags.count("role") != 0 && m.tags.at("role") == "worker";
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
    registry_.sync(snaps, clock::now());
    for (const auto& m : view) {
        update(m);
    }
}

std::optional<balance::assignment> director_pool::assign(const balance::tag_filter& filter,
                                                         std::span<const std::string> exclude,
                                                         std::string_view owner) {
    auto r = registry_.assign(filter, exclude, clock::now(), rng_, owner);
    if (auto* a = std::get_if<balance::assignment>(&r)) {
        return *a;
    }
    return std::nullopt;
}

balance::release_result director_pool::release(balance::lease_id id, std::string_view owner) {
    return registry_.release(id, owner);
}

void director_pool::mark_unhealthy(const std::string& name) {
    registry_.mark_unhealthy(name, clock::now());
    notice_changes();
}

std::uint32_t director_pool::connections(const std::string& name) const {
    return registry_.connections(name, clock::now()).value_or(0);
}

std::vector<balance::pool_entry> director_pool::rows() const { return registry_.pool(clock::now()); }

void director_pool::set_health(const std::string& name, bool healthy) {
    if (healthy) {
        if (failing_.erase(name) != 0) {
            common::logger("lb").info("health check passes again worker={}", name);
        }
        registry_.mark_healthy(name);
    } else if (failing_.insert(name).second) {
        std::cout << fmt::format("🩺 Worker {} failed its health check: not assigning it", name)
                  << std::endl;
        registry_.mark_unhealthy(name, clock::now());
    }
    notice_changes();
}

void director_pool::notice_changes() {
    std::string key;
    for (const auto& row : registry_.pool(clock::now())) {
        if (row.assignable) {
            key += row.name + ",";
        }
    }
    if (key != last_assignable_) {
        last_assignable_ = key;
        if (on_change_) {
            on_change_();
        }
    }
}

net::awaitable<void> director_pool::health_loop(std::string name, common::endpoint addr) {
    net::asio::steady_timer pause(ex_);
    rpc::client conn;
    int timeouts = 0;
    const auto call_timeout = opts_.connect_timeout;
    while (!stopping_) {
        const bool tracked = [&] {
            for (const auto& row : registry_.pool(clock::now())) {
                if (row.name == name) {
                    return true;
                }
            }
            return false;
        }();
        if (!tracked) {
            break; // failed, left or reaped: membership owns it now
        }
        bool ok = false;
        bool hard_failure = false;
        if (!conn.is_open()) {
            auto r = co_await rpc::client::connect(ex_, addr, tls_, opts_);
            if (r) {
                conn = *r;
            } else {
                hard_failure = r.error() != make_error_code(errc::deadline_exceeded) &&
                               r.error() != make_error_code(errc::handshake_timeout);
            }
        }
        if (conn.is_open()) {
            auto res = co_await conn.unary("Worker.Health", {}, call_timeout);
            ok = res.st.ok();
            v1::HealthResponse health;
            if (ok && health.ParseFromString(res.response)) {
                registry_.observe_streams(name, health.active_streams(), clock::now());
            }
            if (!ok) {
                hard_failure = res.st.code != v1::DEADLINE_EXCEEDED;
                conn.close();
            }
        }
        timeouts = ok || hard_failure ? 0 : timeouts + 1;
        if (ok) {
            set_health(name, true);
        } else if (hard_failure || timeouts >= 2) {
            set_health(name, false);
        }
        pause.expires_after(interval_);
        auto [ec] = co_await pause.async_wait(net::use_tuple);
        if (ec) {
            break;
        }
    }
    conn.close();
    checking_.erase(name);
    failing_.erase(name);
}

net::awaitable<void> director_pool::stop() {
    stopping_ = true;
    tasks_.cancel();
    co_await tasks_.wait();
}

} // namespace rpcnetd::app
