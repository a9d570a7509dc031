// rpcnetd director: the seed member that keeps the worker pool (balance::worker_registry) in step
// with membership, checks its workers directly, and serves Director.Assign / ReportFailure /
// Release / Members / Events.
#include "app/director_pool.hpp"
#include "app/event_hub.hpp"
#include "app/member_node.hpp"
#include "app/modes.hpp"
#include "app/run_member.hpp"
#include "balance/tag_filter.hpp"
#include "common/log.hpp"
#include "net/task_group.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/call_context.hpp"
#include "rpc/stream_writer.hpp"

#include <fmt/format.h>

#include <chrono>
#include <iostream>

namespace rpcnetd::app {
namespace {

using namespace std::chrono_literals;
using common::clock;
using unary_result = std::pair<rpc::status, std::string>;

std::string_view strategy_name(cli::balance_strategy s) {
    switch (s) {
    case cli::balance_strategy::round_robin: return "round-robin";
    case cli::balance_strategy::random: return "random";
    case cli::balance_strategy::least_connections: break;
    }
    return "least-connections";
}

std::uint64_t unix_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

net::awaitable<rpc::status> bad_events_request() {
    co_return rpc::status{v1::INVALID_ARGUMENT, "malformed EventsRequest"};
}

class director_app {
public:
    director_app(net::asio::any_io_executor ex, const cli::director_config& cfg)
        : ex_(ex), cfg_(cfg),
          node_(ex, cfg.common, cfg.member,
                [this](const membership::member_event& e) { on_member_event(e); }),
          pool_(ex, strategy_name(cfg.strategy), cfg.health_interval, node_.client_tls(),
                node_.client_options()),
          events_(ex), status_timer_(ex), tasks_(ex, "director") {
        auto& srv = node_.server();
        srv.add_unary("Director.Assign", [this](rpc::call_context& c, std::string r) {
            return assign(c, std::move(r));
        });
        srv.add_unary("Director.ReportFailure", [this](rpc::call_context& c, std::string r) {
            return report_failure(c, std::move(r));
        });
        srv.add_unary("Director.Release", [this](rpc::call_context& c, std::string r) {
            return release(c, std::move(r));
        });
        srv.add_unary("Director.Members", [this](rpc::call_context& c, std::string r) {
            return members(c, std::move(r));
        });
        srv.add_stream("Director.Events",
                       [this](rpc::call_context& c, std::string r, rpc::stream_writer& w) {
                           v1::EventsRequest req;
                           if (!req.ParseFromString(r)) {
                               return bad_events_request();
                           }
                           return events_.serve(c, w, req.replay());
                       });
        node_.add_stats([this](member_node::stat_list& out) {
            out.emplace_back("director.leases_refused", leases_refused_);
            out.emplace_back("events.subscribers", events_.subscribers());
            out.emplace_back("events.dropped", events_.dropped());
        });
        // With --require-client-cert: the certificate's OU decides (man rpcnetd, "Roles");
        // Director.Members and Director.Events stay open to any authenticated peer.
        for (const char* m : {"Director.Assign", "Director.ReportFailure", "Director.Release"}) {
            srv.allow_roles(m, {"client"});
        }
        pool_.on_change([this] { print_pool(); });
        node_.on_tls_reload([this](std::shared_ptr<boost::asio::ssl::context> tls) {
            pool_.set_client_tls(std::move(tls));
        });
    }

    void start() {
        std::cout << fmt::format("🎯 Starting Director at {}", cfg_.member.addr.to_string())
                  << std::endl;
        node_.start();
        std::cout << fmt::format("📡 Seed node ready: workers join with --join {}",
                                 cfg_.member.addr.to_string())
                  << std::endl;
        std::cout << fmt::format("⚖️  Load balancing strategy: {}", strategy_name(cfg_.strategy))
                  << std::endl;
        tasks_.spawn(status_loop());
    }

    net::awaitable<void> shutdown() {
        stopping_ = true;
        status_timer_.cancel();
        events_.close();
        co_await pool_.stop();
        std::cout << "👋 Director leaving the cluster" << std::endl;
        co_await node_.leave_and_stop(cfg_.member.drain_timeout);
        tasks_.cancel();
        co_await tasks_.wait();
        std::cout << "🛑 Director stopped" << std::endl;
    }

private:
    net::awaitable<unary_result> assign(rpc::call_context& ctx, std::string request) {
        v1::AssignRequest req;
        if (!req.ParseFromString(request)) {
            co_return unary_result{{v1::INVALID_ARGUMENT, "malformed AssignRequest"}, {}};
        }
        balance::tag_map required;
        for (const auto& t : req.filter()) {
            required[t.key()] = t.value();
        }
        std::vector<std::string> exclude(req.exclude().begin(), req.exclude().end());
        auto picked =
            pool_.assign(balance::tag_filter(std::move(required)), exclude, ctx.peer_identity());
        if (!picked) {
            co_return unary_result{{v1::NO_WORKERS, "no workers available"}, {}};
        }
        v1::AssignResponse resp;
        resp.set_worker(picked->worker);
        resp.set_label(picked->label);
        resp.set_rpc_addr(picked->rpc_addr.to_string());
        resp.set_lease(picked->lease.to_bytes());
        common::logger("lb").debug("assign worker={} client={} peer={}", picked->worker,
                                   req.client(), ctx.peer());
        co_return unary_result{{}, resp.SerializeAsString()};
    }

    // Releases the caller's lease; a lease of another caller is refused and counted. Unknown or
    // empty leases pass (the lease may have ended with its worker).
    std::optional<rpc::status> release_own(rpc::call_context& ctx, const std::string& lease,
                                           std::string_view what) {
        const auto id = balance::lease_id::from_bytes(lease);
        if (!id) {
            return std::nullopt;
        }
        if (pool_.release(*id, ctx.peer_identity()) != balance::release_result::not_owner) {
            return std::nullopt;
        }
        ++leases_refused_;
        common::logger("lb").warn("lease refused op={} peer={} caller={}", what, ctx.peer(),
                                  ctx.peer_identity());
        return rpc::status{v1::PERMISSION_DENIED, "the lease belongs to another client"};
    }

    net::awaitable<unary_result> report_failure(rpc::call_context& ctx, std::string request) {
        v1::ReportFailureRequest req;
        if (!req.ParseFromString(request)) {
            co_return unary_result{{v1::INVALID_ARGUMENT, "malformed ReportFailureRequest"}, {}};
        }
        if (auto refused = release_own(ctx, req.lease(), "report-failure")) {
            co_return unary_result{*refused, {}};
        }
        std::cout << fmt::format("🚨 Client reported worker {} failed ({}): not assigning it, "
                                 "probing it now",
                                 req.worker(), req.reason())
                  << std::endl;
        pool_.mark_unhealthy(req.worker());
        node_.probe_now(req.worker());
        co_return unary_result{{}, v1::ReportFailureResponse().SerializeAsString()};
    }

    net::awaitable<unary_result> release(rpc::call_context& ctx, std::string request) {
        v1::ReleaseRequest req;
        if (!req.ParseFromString(request)) {
            co_return unary_result{{v1::INVALID_ARGUMENT, "malformed ReleaseRequest"}, {}};
        }
        if (auto refused = release_own(ctx, req.lease(), "release")) {
            co_return unary_result{*refused, {}};
        }
        co_return unary_result{{}, v1::ReleaseResponse().SerializeAsString()};
    }

    net::awaitable<unary_result> members(rpc::call_context&, std::string) {
        v1::MembersResponse resp;
        for (const auto& m : node_.members()) {
            auto* info = resp.add_members();
            info->set_name(m.name);
            info->set_addr(m.addr.to_string());
            info->set_state(std::string(membership::to_string(m.status)));
            info->set_incarnation(m.incarnation);
            for (const auto& [k, v] : m.tags) {
                auto* t = info->add_tags();
                t->set_key(k);
                t->set_value(v);
            }
            info->set_active_streams(pool_.connections(m.name));
        }
        co_return unary_result{{}, resp.SerializeAsString()};
    }

    void on_member_event(const membership::member_event& e) {
        pool_.update(e.snapshot);
        if (e.kind == membership::member_event_kind::updated) {
            return; // stream-count reports; the pool print shows them
        }
        std::cout << describe_event(e) << std::endl;
        v1::ClusterEvent ev;
        ev.set_kind(std::string(membership::to_string(e.kind)));
        ev.set_node(e.snapshot.name);
        ev.set_addr(e.snapshot.addr.to_string());
        ev.set_incarnation(e.snapshot.incarnation);
        for (const auto& [k, v] : e.snapshot.tags) {
            auto* t = ev.add_tags();
            t->set_key(k);
            t->set_value(v);
        }
        ev.set_unix_ms(unix_ms());
        events_.publish(ev);
    }

    void print_pool() {
        const auto rows = pool_.rows();
        std::size_t available = 0;
        for (const auto& r : rows) {
            available += r.assignable ? 1 : 0;
        }
        std::string out = fmt::format("📊 Worker pool status: {} workers available", available);
        for (const auto& r : rows) {
            out += fmt::format("\n   - {} ({}) at {}: {} connections{}", r.label.empty() ? r.name : r.label,
                               balance::to_string(r.state), r.rpc_addr.to_string(), r.connections,
                               r.healthy ? "" : ", failing health checks");
        }
        std::cout << out << std::endl;
    }

    net::awaitable<void> status_loop() {
        auto next = clock::now();
        while (!stopping_) {
            pool_.sync(node_.members());
            print_pool();
            next += cfg_.status_interval;
            status_timer_.expires_at(next);
            auto [ec] = co_await status_timer_.async_wait(net::use_tuple);
            if (ec) {
                co_return;
            }
        }
    }

    net::asio::any_io_executor ex_;
    const cli::director_config& cfg_;
    member_node node_;
    director_pool pool_;
    event_hub events_;
    net::asio::steady_timer status_timer_;
    bool stopping_ = false;
    std::uint64_t leases_refused_ = 0;
    net::task_group tasks_;
};

} // namespace

int run_director(const cli::director_config& cfg) { return run_member<director_app>(cfg); }

} // namespace rpcnetd::app
