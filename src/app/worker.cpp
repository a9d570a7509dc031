// rpcnetd worker: a cluster member serving Worker.Generate token streams (plus Worker.Health
// for the director's direct health check and the bench methods), with the optional simulated
// failure cycle and a graceful leave on SIGTERM/SIGINT.
#include "app/bench_service.hpp"
#include "app/failure_cycle.hpp"
#include "app/member_node.hpp"
#include "app/modes.hpp"
#include "app/run_member.hpp"
#include "common/log.hpp"
#include "net/task_group.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/call_context.hpp"
#include "rpc/stream_writer.hpp"

#include <fmt/format.h>

#include <iostream>

namespace rpcnetd::app {
namespace {

using namespace std::chrono_literals;
using common::clock;

// How often a changed active-stream count is gossiped (as the active_streams tag). Each report
// bumps our incarnation, so it is rate-limited; the director adds its own recent assignments on
// top, so counts stay right in between.
constexpr auto report_interval = 250ms;

// The worker joins already announcing 0 running streams, so its first report is not an update
// (an incarnation bump and a NodeUpdated on every member) seconds after it joined.
cli::member_config with_idle_stream_count(cli::member_config m) {
    m.tags["active_streams"] = "0";
    return m;
}

class worker_app {
public:
    worker_app(net::asio::any_io_executor ex, const cli::worker_config& cfg)
        : ex_(ex), cfg_(cfg),
          node_(ex, cfg.common, with_idle_stream_count(cfg.member),
                [this](const membership::member_event& e) { on_member_event(e); }),
          report_timer_(ex), cycle_timer_(ex), tasks_(ex, "worker") {
        auto& srv = node_.server();
        srv.add_stream("Worker.Generate",
                       [this](rpc::call_context& ctx, std::string req, rpc::stream_writer& w) {
                           return generate(ctx, std::move(req), w);
                       });
        srv.add_unary("Worker.Health", [this](rpc::call_context& ctx, std::string req) {
            return health(ctx, std::move(req));
        });
        register_bench_service(srv, cfg.label);
        // The worker's own count (what Worker.Health answers), for checking the director's view.
        node_.add_stats([this](member_node::stat_list& out) {
            out.emplace_back("worker.active_streams", active_);
        });
        // With --require-client-cert: the certificate's OU decides (man rpcnetd, "Roles").
        srv.allow_roles("Worker.Generate", {"client", "director"});
        srv.allow_roles("Worker.Health", {"director"});
    }

    void start() {
        std::cout << fmt::format("👷 Starting worker {} at {} (joining {})", cfg_.label,
                                 cfg_.member.addr.to_string(), join_list())
                  << std::endl;
        node_.start();
        std::cout << fmt::format("✅ Worker {} serving Worker.Generate over TLS 1.3 (token "
                                 "interval {}ms)",
                                 cfg_.label, cfg_.token_interval.count())
                  << std::endl;
        tasks_.spawn(report_loop());
        if (cfg_.failures.enabled) {
            std::cout << fmt::format("💥 Failure simulation on: {}ms healthy, warning {}ms "
                                     "before, {}ms failed",
                                     cfg_.failures.healthy.count(), cfg_.failures.warning.count(),
                                     cfg_.failures.failed.count())
                      << std::endl;
            tasks_.spawn(failure_loop(clock::now()));
        }
    }

    net::awaitable<void> shutdown() {
        stopping_ = true;
        report_timer_.cancel();
        cycle_timer_.cancel();
        std::cout << fmt::format("👋 Worker {} leaving: draining {} running stream(s) for up to "
                                 "{}ms",
                                 cfg_.label, active_, cfg_.member.drain_timeout.count())
                  << std::endl;
        co_await node_.leave_and_stop(cfg_.member.drain_timeout);
        tasks_.cancel();
        co_await tasks_.wait();
        std::cout << fmt::format("🛑 Worker {} stopped", cfg_.label) << std::endl;
    }

private:
    net::awaitable<rpc::status> generate(rpc::call_context& ctx, std::string request,
                                         rpc::stream_writer& writer) {
        v1::GenerateRequest req;
        if (!req.ParseFromString(request)) {
            co_return rpc::status{v1::INVALID_ARGUMENT, "malformed GenerateRequest"};
        }
        if (failed_) {
            co_return rpc::status{v1::UNAVAILABLE, "worker failed (simulated)"};
        }
        // Counted for the gossiped load report; the guard also runs when cancellation unwinds
        // the coroutine with an exception.
        struct active_guard {
            std::uint64_t& n;
            explicit active_guard(std::uint64_t& count) : n(count) { ++n; }
            ~active_guard() { --n; }
            active_guard(const active_guard&) = delete;
            active_guard& operator=(const active_guard&) = delete;
        } guard(active_);
        common::logger("app").debug("stream start job={} from={} to={} peer={}", req.job(),
                                    req.from_sequence(), req.to_sequence(), ctx.peer());
        co_return co_await produce(req, writer, failure_epoch_);
    }

    net::awaitable<rpc::status> produce(const v1::GenerateRequest& req, rpc::stream_writer& writer,
                                        std::uint64_t epoch) {
        net::asio::steady_timer pause(ex_);
        const auto interval = req.token_interval_us() != 0
                                  ? std::chrono::microseconds(req.token_interval_us())
                                  : std::chrono::duration_cast<std::chrono::microseconds>(
                                        cfg_.token_interval);
        v1::Token token;
        token.set_worker(cfg_.label);
        for (std::uint64_t seq = std::max<std::uint64_t>(1, req.from_sequence());
             req.to_sequence() == 0 || seq <= req.to_sequence(); ++seq) {
            if (failure_epoch_ != epoch) {
                co_return rpc::status{v1::WORKER_FAILED, "worker failed (simulated)"};
            }
            token.set_sequence(seq);
            token.set_text("token-" + std::to_string(seq));
            const auto ec = co_await writer.write(token.SerializeAsString());
            if (ec) {
                co_return rpc::status{v1::CANCELLED, "stream cancelled"};
            }
            if (interval.count() > 0) {
                pause.expires_after(interval);
                auto [waited] = co_await pause.async_wait(net::use_tuple);
                if (waited) {
                    co_return rpc::status{v1::CANCELLED, "stream cancelled"};
                }
            }
        }
        co_return rpc::status{};
    }

    net::awaitable<std::pair<rpc::status, std::string>> health(rpc::call_context&, std::string) {
        if (failed_) {
            co_return std::pair{rpc::status{v1::UNAVAILABLE, "worker failed (simulated)"},
                                std::string{}};
        }
        v1::HealthResponse resp;
        resp.set_active_streams(static_cast<std::uint32_t>(active_));
        co_return std::pair{rpc::status{}, resp.SerializeAsString()};
    }

    // Gossips the running-stream count when it changed, at most every report_interval.
    net::awaitable<void> report_loop() {
        std::uint64_t reported = 0;  // joined with active_streams=0
        while (!stopping_) {
            if (active_ != reported && !failed_) {
                reported = active_;
                auto tags = node_.tags();
                tags["active_streams"] = std::to_string(reported);
                node_.set_tags(std::move(tags));
            }
            report_timer_.expires_after(report_interval);
            co_await report_timer_.async_wait(net::use_tuple);
        }
    }

    net::awaitable<void> failure_loop(clock::time_point start) {
        while (!stopping_) {
            const auto st = failure_cycle_at(cfg_.failures, start, clock::now());
            enter(st.phase, st.next_transition);
            if (st.next_transition == clock::time_point::max()) {
                co_return;
            }
            cycle_timer_.expires_at(st.next_transition);
            co_await cycle_timer_.async_wait(net::use_tuple);
        }
    }

    void enter(failure_phase phase, clock::time_point next) {
        const auto in_ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - clock::now());
        if (phase == failure_phase::warning && !warned_) {
            warned_ = true;
            std::cout << fmt::format("⚠️  Worker {} will fail in {}ms (simulated)", cfg_.label,
                                     in_ms.count())
                      << std::endl;
        } else if (phase == failure_phase::failed && !failed_) {
            failed_ = true;
            ++failure_epoch_;
            node_.set_hung(true);
            std::cout << fmt::format("💥 Worker {} FAILED (simulated): streams end, calls "
                                     "refused, gossip silent for {}ms",
                                     cfg_.label, in_ms.count())
                      << std::endl;
        } else if (phase == failure_phase::healthy && (failed_ || warned_)) {
            const bool was_failed = failed_;
            failed_ = false;
            warned_ = false;
            if (was_failed) {
                node_.set_hung(false);
                std::cout << fmt::format("🔄 Worker {} recovered; rejoining the pool", cfg_.label)
                          << std::endl;
            }
        }
    }

    void on_member_event(const membership::member_event& e) {
        if (e.kind == membership::member_event_kind::updated) {
            return; // tag refreshes (stream counts) are not news for people
        }
        std::cout << describe_event(e) << std::endl;
    }

    std::string join_list() const {
        std::string s;
        for (const auto& j : cfg_.member.join) {
            s += (s.empty() ? "" : ",") + j.to_string();
        }
        return s.empty() ? "nobody" : s;
    }

    net::asio::any_io_executor ex_;
    const cli::worker_config& cfg_;
    member_node node_;
    net::asio::steady_timer report_timer_;
    net::asio::steady_timer cycle_timer_;
    std::uint64_t active_ = 0;
    std::uint64_t failure_epoch_ = 0;
    bool failed_ = false;
    bool warned_ = false;
    bool stopping_ = false;
    net::task_group tasks_; // last: the report and failure-cycle loops
};

} // namespace

int run_worker(const cli::worker_config& cfg) { return run_member<worker_app>(cfg); }

} // namespace rpcnetd::app
