// rpcnetd director: the seed member that keeps the worker pool (balance::worker_registry) in step
// with membership, checks its workers directly, and serves Director.Assign / ReportFailure /
// Release / Members / Events.
#include "app/director/director_pool.hpp"
#include "app/director/failover_reason.hpp"
#include "app/event_hub.hpp"
#include "app/member_node.hpp"
#include "app/member_printer.hpp"
#include "app/modes.hpp"
#include "app/ops_endpoint.hpp"
#include "app/run_member.hpp"
#include "balance/admission_queue.hpp"
#include "balance/tag_filter.hpp"
#include "common/log.hpp"
#include "common/safe_text.hpp"
#include "common/tags.hpp"
#include "net/task_group.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/call_context.hpp"
#include "rpc/stream_writer.hpp"

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>

namespace rpcnetd::app {
namespace {

using namespace std::chrono_literals;
using common::clock;
using unary_result = std::pair<rpc::status, std::string>;

std::string_view strategy_name(cli::balance_strategy s) {
    switch (s) {
    case cli::balance_strategy::round_robin:
        return "round-robin";
    case cli::balance_strategy::random:
        return "random";
    case cli::balance_strategy::power_of_two:
        return "power-of-two";
    case cli::balance_strategy::affinity:
        return "affinity";
    case cli::balance_strategy::least_connections:
        break;
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
          pool_(ex, strategy_name(cfg.strategy),
                balance::strategy_options{.affinity_epsilon = cfg.affinity_epsilon},
                cfg.health_interval, node_.client_tls(), node_.channel_options()),
          queue_(
              balance::admission_config{.capacity = cfg.queue_size, .timeout = cfg.queue_timeout},
              common::random_seed() | 1),
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
            out.emplace_back("queue.waiting", queue_.size());
            out.emplace_back("queue.admitted", queue_admitted_);
            out.emplace_back("queue.rejected", queue_rejected_);
            out.emplace_back("queue.timed_out", queue_timed_out_);
        });
        // With --require-client-cert: the certificate's OU decides (man rpcnetd, "Roles");
        // Director.Members and Director.Events stay open to any authenticated peer.
        for (const char* m : {"Director.Assign", "Director.ReportFailure", "Director.Release"}) {
            srv.allow_roles(m, {"client"});
        }
        pool_.on_change([this] {
            print_pool();
            wake_queue();
        });
        node_.on_tls_reload([this](std::shared_ptr<boost::asio::ssl::context> tls) {
            pool_.set_client_tls(std::move(tls));
        });
        if (cfg.member.http_addr) {
            http_ = std::make_unique<ops_endpoint>(
                ex, *cfg.member.http_addr, node_, [this] { return readiness(); },
                [this] { return members_json(members_response()); },
                [this](common::metrics::exposition& e) { director_metrics(e); });
        }
    }

    member_node& node() { return node_; }

    void start() {
        std::cout << fmt::format("🎯 Starting Director at {}", cfg_.member.addr.to_string())
                  << std::endl;
        if (http_) {
            http_->start();  // first: a busy --http-addr fails before anything else runs
        }
        node_.start();
        std::cout << fmt::format("📡 Seed node ready: workers join with --join {}",
                                 cfg_.member.addr.to_string())
                  << std::endl;
        std::cout << fmt::format("⚖️  Load balancing strategy: {}",
                                 strategy_name(cfg_.strategy))
                  << std::endl;
        if (cfg_.simulate_workers > 0) {
            pool_.add_simulated_workers(cfg_.simulate_workers);
            std::cout << fmt::format("🧪 {} simulated workers in the pool (benchmark only)",
                                     cfg_.simulate_workers)
                      << std::endl;
        }
        tasks_.spawn(status_loop());
    }

    net::awaitable<void> shutdown() {
        stopping_ = true;
        status_timer_.cancel();
        for (auto& [ticket, w] : waiters_) {
            w->timer.cancel();
        }
        events_.close();
        if (http_) {
            co_await http_->stop();
        }
        co_await pool_.stop();
        std::cout << "👋 Director leaving the cluster" << std::endl;
        co_await node_.leave_and_stop(cfg_.member.drain_timeout);
        tasks_.cancel();
        co_await tasks_.wait();
        std::cout << "🛑 Director stopped" << std::endl;
    }

private:
    net::awaitable<unary_result> assign(rpc::call_context& ctx, std::string request) {
        const auto started = clock::now();
        struct observe_latency {
            common::metrics::histogram& h;
            clock::time_point t0;
            ~observe_latency() {
                h.observe(std::chrono::duration<double>(clock::now() - t0).count());
            }
        } timed{assign_latency_, started};
        v1::AssignRequest req;
        if (!req.ParseFromString(request)) {
            co_return unary_result{{v1::INVALID_ARGUMENT, "malformed AssignRequest"}, {}};
        }
        if (req.has_report()) {
            if (auto refused = apply_report(ctx, req.report())) {
                co_return unary_result{*refused, {}};
            }
        }
        std::vector<std::string> exclude(req.exclude().begin(), req.exclude().end());
        balance::tag_filter filter = filter_of(req);
        queue_expire();
        std::optional<balance::assignment> picked;
        const bool holds_place = req.queue_ticket() != 0 &&
                                 queue_.position(req.queue_ticket(), req.client()).has_value();
        if (holds_place) {
            auto waited = co_await wait_in_queue(req.queue_ticket(), filter, exclude,
                                                 ctx.peer_identity(), req.affinity());
            if (!waited) {
                co_return unary_result{queue_refusal("no worker freed up within --queue-timeout"),
                                       {}};
            }
            picked = std::move(waited);
        } else {
            // Newcomers do not pass anyone already waiting: with a queue, they join its end.
            if (queue_.size() == 0) {
                picked = pool_.assign(filter, exclude, ctx.peer_identity(), req.affinity());
            }
            if (!picked) {
                if (cfg_.queue_size == 0 ||
                    pool_.check(filter, exclude) == balance::availability::none) {
                    co_return unary_result{{v1::NO_WORKERS, "no workers available"}, {}};
                }
                co_return enqueue(req);
            }
        }
        co_return assigned(req, *picked, ctx);
    }

    // The tags a client asked its worker to have (AssignRequest.filter).
    static balance::tag_filter filter_of(const v1::AssignRequest& req) {
        balance::tag_map required;
        for (const auto& t : req.filter()) {
            required[t.key()] = t.value();
        }
        return balance::tag_filter(std::move(required));
    }

    // No worker free now: the client takes a place at the end of the admission queue.
    unary_result enqueue(const v1::AssignRequest& req) {
        auto place = queue_.enqueue(req.client(), clock::now());
        if (!place) {
            ++queue_rejected_;
            return unary_result{queue_refusal("admission queue full"), {}};
        }
        v1::AssignResponse resp;
        resp.set_report_accepted(req.has_report());
        resp.set_queue_position(static_cast<std::uint32_t>(place->position));
        resp.set_queue_ticket(place->id);
        resp.set_queue_timeout_ms(static_cast<std::uint32_t>(cfg_.queue_timeout.count()));
        lb_log_.debug("queued client={} position={} ticket={}", req.client(), place->position,
                      place->id);
        return unary_result{{}, resp.SerializeAsString()};
    }

    unary_result assigned(const v1::AssignRequest& req, const balance::assignment& picked,
                          const rpc::call_context& ctx) {
        v1::AssignResponse resp;
        resp.set_report_accepted(req.has_report());
        resp.set_worker(picked.worker);
        resp.set_label(picked.label);
        resp.set_rpc_addr(picked.rpc_addr.to_string());
        resp.set_lease(picked.lease.to_bytes());
        lb_log_.debug("assign worker={} client={} peer={}", picked.worker, req.client(),
                      ctx.peer());
        return unary_result{{}, resp.SerializeAsString()};
    }

    // --- admission queue (balance::admission_queue holds the order; this is the waiting) --------

    struct waiter {
        net::asio::steady_timer timer;
        const balance::tag_filter* filter;
        std::span<const std::string> exclude;
        std::string owner;  // the caller's identity: the lease it gets is bound to it
        std::string affinity;
        std::optional<balance::assignment> result;
    };

    // Holds the caller's place until wake_queue() hands it a worker or the place times out.
    net::awaitable<std::optional<balance::assignment>>
    wait_in_queue(balance::admission_queue::ticket ticket, const balance::tag_filter& filter,
                  std::span<const std::string> exclude, std::string owner, std::string affinity) {
        waiter w{net::asio::steady_timer(ex_), &filter, exclude, std::move(owner),
                 std::move(affinity),          {}};
        w.timer.expires_at(queue_.deadline(ticket));
        waiters_[ticket] = &w;
        queue_.set_active(ticket, true, clock::now());
        wake_queue();
        if (!w.result) {
            co_await w.timer.async_wait(net::use_tuple);  // cancelled by wake_queue or the caller
        }
        waiters_.erase(ticket);
        if (w.result) {
            ++queue_admitted_;
        } else if (queue_.remove(ticket)) {
            ++queue_timed_out_;
        }
        co_return std::move(w.result);
    }

    // Hands freed workers to waiting places, oldest first. A place whose holder is between its
    // two calls keeps the turn when a worker would fit it (it is back within one round trip).
    void wake_queue() {
        queue_expire();
        for (const auto ticket : queue_.in_order()) {
            const auto it = waiters_.find(ticket);
            if (it == waiters_.end()) {
                if (queue_.active(ticket)) {
                    continue;
                }
                break;  // the oldest inactive place keeps its turn
            }
            waiter& w = *it->second;
            if (w.result ||
                pool_.check(*w.filter, w.exclude) != balance::availability::assignable) {
                continue;
            }
            w.result = pool_.assign(*w.filter, w.exclude, w.owner, w.affinity);
            if (w.result) {
                queue_.remove(ticket);
                w.timer.cancel();
            }
        }
    }

    void queue_expire() {
        for (const auto ticket : queue_.expire(clock::now())) {
            if (auto it = waiters_.find(ticket); it != waiters_.end()) {
                it->second->timer.cancel();
            }
            ++queue_timed_out_;
        }
    }

    rpc::status queue_refusal(std::string_view why) const {
        return rpc::status{v1::RESOURCE_EXHAUSTED,
                           fmt::format("{} ({} waiting); retry-after={}ms", why, queue_.size(),
                                       queue_.retry_after(clock::now()).count())};
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
        if (auto refused = apply_report(ctx, req)) {
            co_return unary_result{*refused, {}};
        }
        co_return unary_result{{}, v1::ReportFailureResponse().SerializeAsString()};
    }

    // Director.ReportFailure, alone or riding on an Assign (AssignRequest.report).
    std::optional<rpc::status> apply_report(rpc::call_context& ctx,
                                            const v1::ReportFailureRequest& req) {
        if (auto refused = release_own(ctx, req.lease(), "report-failure")) {
            return refused;
        }
        std::cout << fmt::format("🚨 Client reported worker {} failed ({}): not assigning it, "
                                 "probing it now",
                                 common::escape_text(req.worker()),
                                 common::escape_text(req.reason()))
                  << std::endl;
        ++failovers_[failover_reason_class(req.reason())];
        pool_.mark_unhealthy(req.worker());
        node_.probe_now(req.worker());
        return std::nullopt;
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
        co_return unary_result{{}, members_response().SerializeAsString()};
    }

    // The membership view plus what the director decides about each worker.
    v1::MembersResponse members_response() const {
        v1::MembersResponse resp;
        std::map<std::string, bool> assignable;
        for (const auto& row : pool_.rows()) {
            assignable[row.name] = row.assignable;
        }
        for (const auto& m : node_.members()) {
            auto* info = resp.add_members();
            fill_member_info(*info, m);
            info->set_active_streams(pool_.connections(m.name));
            const auto a = assignable.find(m.name);
            info->set_assignable(a != assignable.end() && a->second);
            const auto h = pool_.health(m.name);
            info->set_health(std::string(to_string(h.st)));
            info->set_health_rtt_ms(h.rtt_ms);
            const auto drain_tag = m.tags.find(std::string(common::draining_tag));
            info->set_draining(drain_tag != m.tags.end() && drain_tag->second == "true");
        }
        return resp;
    }

    std::pair<bool, std::string> readiness() const {
        std::size_t n = 0;
        for (const auto& row : pool_.rows()) {
            n += row.assignable ? 1 : 0;
        }
        if (n == 0) {
            return {false, "not ready: no assignable worker"};
        }
        return {true, fmt::format("ready: {} assignable worker(s)", n)};
    }

    void director_metrics(common::metrics::exposition& e) const {
        const auto rows = pool_.rows();
        std::size_t assignable = 0;
        std::uint64_t streams = 0;
        for (const auto& r : rows) {
            assignable += r.assignable ? 1 : 0;
            streams += r.connections;
        }
        e.gauge("rpcnetd_director_workers", "Workers in the director's pool",
                static_cast<double>(rows.size()));
        e.gauge("rpcnetd_director_assignable_workers",
                "Workers Assign may pick now (alive and passing health checks)",
                static_cast<double>(assignable));
        e.gauge("rpcnetd_director_active_streams",
                "Streams on the pool's workers as the balancer counts them",
                static_cast<double>(streams));
        e.gauge("rpcnetd_director_leases", "Outstanding client leases",
                static_cast<double>(pool_.lease_count()));
        e.add_histogram("rpcnetd_director_assign_duration_seconds",
                        "Time the director took to answer Director.Assign", assign_latency_);
        e.add_histogram("rpcnetd_director_health_check_rtt_seconds",
                        "Round trip of passing Worker.Health checks", pool_.health_rtt());
        const auto& hs = pool_.health_stats();
        const char* help = "Direct health checks of workers by result";
        e.counter("rpcnetd_director_health_checks_total", help, static_cast<double>(hs.passed),
                  {{"result", "ok"}});
        e.counter("rpcnetd_director_health_checks_total", help, static_cast<double>(hs.failed),
                  {{"result", "failed"}});
        e.counter("rpcnetd_director_health_checks_total", help, static_cast<double>(hs.timed_out),
                  {{"result", "timeout"}});
        e.counter("rpcnetd_director_workers_marked_unhealthy_total",
                  "Workers taken out of assignment by a failing health check",
                  static_cast<double>(hs.marked_unhealthy));
        for (const auto& [reason, n] : failovers_) {
            e.counter("rpcnetd_director_failovers_reported_total",
                      "Director.ReportFailure calls by reason class", static_cast<double>(n),
                      {{"reason", reason}});
        }
        if (failovers_.empty()) {
            e.counter("rpcnetd_director_failovers_reported_total",
                      "Director.ReportFailure calls by reason class", 0, {{"reason", "other"}});
        }
    }

    void on_member_event(const membership::member_event& e) {
        if (e.kind != membership::member_event_kind::conflict) {
            pool_.update(e.snapshot);  // a conflict changed nothing: the holder keeps the name
        }
        if (e.kind == membership::member_event_kind::updated) {
            return;  // stream-count reports; the pool print shows them
        }
        std::cout << describe_event(e) << std::endl;
        v1::ClusterEvent ev;
        if (e.kind == membership::member_event_kind::conflict) {
            ev.add_addrs(e.snapshot.addr.to_string());
            ev.add_addrs(e.claimant.to_string());
        }
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
        constexpr std::size_t max_rows = 32;  // a pool of hundreds is summarised, not listed
        for (const auto& r : rows) {
            if (&r - rows.data() == static_cast<std::ptrdiff_t>(max_rows)) {
                out += fmt::format("\n   ... and {} more", rows.size() - max_rows);
                break;
            }
            out += fmt::format("\n   - {} ({}) at {}: {} connections{}{}",
                               common::escape_text(r.label.empty() ? r.name : r.label),
                               balance::to_string(r.state), r.rpc_addr.to_string(), r.connections,
                               r.healthy ? "" : ", failing health checks",
                               r.draining ? ", draining" : "");
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
    balance::admission_queue queue_;
    std::map<balance::admission_queue::ticket, waiter*> waiters_;
    std::uint64_t queue_admitted_ = 0;
    std::uint64_t queue_rejected_ = 0;
    std::uint64_t queue_timed_out_ = 0;
    event_hub events_;
    net::asio::steady_timer status_timer_;
    common::metrics::histogram assign_latency_{common::metrics::latency_buckets()};
    std::map<std::string, std::uint64_t> failovers_;  // by failover_reason_class (bounded)
    std::unique_ptr<ops_endpoint> http_;
    bool stopping_ = false;
    std::uint64_t leases_refused_ = 0;
    // Looked up once: logger() takes a lock and searches spdlog's registry, per Assign that was a
    // measurable part of the decision (loggers live until exit, so the reference stays valid).
    spdlog::logger& lb_log_ = common::logger("lb");
    net::task_group tasks_;
};

}  // namespace

int run_director(const cli::director_config& cfg) {
    return run_member<director_app>(cfg);
}

}  // namespace rpcnetd::app
