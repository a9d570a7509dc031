#pragma once
// The director's shell around balance::worker_registry: feeds it membership, runs one direct
// health check per worker (Worker.Health over a kept-open TLS connection every health_interval),
// and reports when the set of assignable workers changes.
//
// Health: a refused or reset connection marks the worker unhealthy at once (a kill -9 closes its
// sockets, so the director stops assigning it within one interval); two timed-out checks in a row
// do too (a hung process), so one slow answer on a loaded machine does not. A passing check marks
// it healthy again. Single executor (the director's io thread).
#include "balance/tag_filter.hpp"
#include "balance/worker_registry.hpp"
#include "common/random.hpp"
#include "membership/member.hpp"
#include "net/asio.hpp"
#include "net/task_group.hpp"
#include "rpc/client.hpp"

#include <boost/asio/ssl/context.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace rpcnetd::app {

class director_pool {
public:
    director_pool(net::asio::any_io_executor ex, std::string_view strategy,
                  std::chrono::milliseconds health_interval,
                  std::shared_ptr<boost::asio::ssl::context> tls, rpc::client_options opts);

    // Called (synchronously) whenever the assignable set changes.
    void on_change(std::function<void()> f) { on_change_ = std::move(f); }
    // After a certificate reload (SIGHUP): new health-check connections use this context.
    void set_client_tls(std::shared_ptr<boost::asio::ssl::context> tls) { tls_ = std::move(tls); }

    void update(const membership::member& m);
    void sync(const std::vector<membership::member>& view);

    // owner: the caller's identity (rpc::call_context::peer_identity); the lease is bound to it.
    std::optional<balance::assignment> assign(const balance::tag_filter& filter,
                                              std::span<const std::string> exclude,
                                              std::string_view owner);
    balance::release_result release(balance::lease_id id, std::string_view owner);
    void mark_unhealthy(const std::string& name);
    std::uint32_t connections(const std::string& name) const;
    std::vector<balance::pool_entry> rows() const;

    // Ends the health checks.
    net::awaitable<void> stop();

private:
    net::awaitable<void> health_loop(std::string name, common::endpoint addr);
    void set_health(const std::string& name, bool healthy);
    void notice_changes();

    net::asio::any_io_executor ex_;
    std::chrono::milliseconds interval_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    rpc::client_options opts_;
    balance::worker_registry registry_;
    common::rng rng_;
    std::function<void()> on_change_;
    std::set<std::string> checking_;
    std::set<std::string> failing_;  // marked unhealthy by our own checks
    std::string last_assignable_;
    bool stopping_ = false;
    net::task_group tasks_;  // last: the health loops
};

} // namespace rpcnetd::app
