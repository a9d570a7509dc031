// rpcnetd worker: a cluster member serving Worker.Generate token streams (plus Worker.Health
// for the director's direct health check and the bench methods), with the optional simulated
// failure cycle and a graceful leave on SIGTERM/SIGINT.
#include "app/bench/bench_service.hpp"
#include "app/member_node.hpp"
#include "app/member_printer.hpp"
#include "app/modes.hpp"
#include "app/ops_endpoint.hpp"
#include "app/run_member.hpp"
#include "app/worker/exec_runner.hpp"
#include "app/worker/failure_cycle.hpp"
#include "common/log.hpp"
#include "common/tags.hpp"
#include "net/task_group.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/call_context.hpp"
#include "rpc/stream_writer.hpp"

#include <fmt/format.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <optional>

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
    m.tags[std::string(common::active_streams_tag)] = "0";
    return m;
}

class worker_app {
public:
    worker_app(net::asio::any_io_executor ex, const cli::worker_config& cfg)
        : ex_(ex), cfg_(cfg),
          node_(ex, cfg.common, with_idle_stream_count(cfg.member),
                [this](const membership::member_event& e) { on_member_event(e); }),
          report_timer_(ex), cycle_timer_(ex), tasks_(ex, "worker") {
        if (cfg.exec.enabled()) {
            exec_.emplace(ex, cfg.exec, cfg.label);
        }
        auto& srv = node_.server();
        srv.add_stream("Worker.Generate",
                       [this](rpc::call_context& ctx, std::string req, rpc::stream_writer& w) {
                           return generate(ctx, std::move(req), w);
                       });
        srv.add_unary("Worker.Health", [this](rpc::call_context& ctx, std::string req) {
            return health(ctx, std::move(req));
        });
        srv.add_unary("Worker.Drain", [this](rpc::call_context& ctx, std::string req) {
            return drain(ctx, std::move(req));
        });
        register_bench_service(srv, cfg.label);
        // With --require-client-cert: the certificate's OU decides (man rpcnetd, "Roles").
        srv.allow_roles("Worker.Generate", {"client", "director"});
        srv.allow_roles("Worker.Health", {"director"});
        if (cfg.member.http_addr) {
            http_ = std::make_unique<ops_endpoint>(
                ex, *cfg.member.http_addr, node_, [this] { return readiness(); },
                [this] { return members_json(members_response()); },
                [this](common::metrics::exposition& e) { worker_metrics(e); });
        }
        srv.allow_roles("Worker.Drain", {"director", "worker"});  // operators, like Keys.*
        // worker.active_streams is the worker's own count (what Worker.Health answers), for
        // checking the director's view.
        node_.add_stats([this](member_node::stat_list& out) {
            out.emplace_back("worker.active_streams", active_);
            out.emplace_back("worker.streams_started", streams_started_);
            out.emplace_back("worker.draining", draining_ ? 1 : 0);
            out.emplace_back("worker.handed_off", handed_off_);
        });
    }

    member_node& node() { return node_; }

    void start() {
        std::cout << fmt::format("👷 Starting worker {} at {} (joining {})", cfg_.label,
                                 cfg_.member.addr.to_string(), join_list())
                  << std::endl;
        if (http_) {
            http_->start();  // first: a busy --http-addr fails before anything else runs
        }
        node_.start();
        std::cout << fmt::format("✅ Worker {} serving Worker.Generate over TLS 1.3 (token "
                                 "interval {}ms)",
                                 cfg_.label, cfg_.token_interval.count())
                  << std::endl;
        if (exec_) {
            std::cout << fmt::format("⚙️  Worker {} runs '{}' per job (resume {}, up to {} at "
                                     "once)",
                                     cfg_.label, exec_command(), resume_name(),
                                     cfg_.exec.max_jobs == 0 ? std::string("unlimited")
                                                             : std::to_string(cfg_.exec.max_jobs))
                      << std::endl;
        }
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
        auto drain = cfg_.member.drain_timeout;
        if (exec_) {
            // At the drain timeout the programs still running are stopped and their streams end
            // with WORKER_DRAINING (clients resume elsewhere); the RPC server waits for that.
            tasks_.spawn(drain_jobs_after(cfg_.member.drain_timeout));
            drain += cfg_.exec.kill_timeout + 2s;
        }
        co_await node_.leave_and_stop(drain);
        if (http_) {
            co_await http_->stop();
        }
        tasks_.cancel();
        co_await tasks_.wait();
        if (exec_) {
            co_await exec_->stop();
        }
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
        ++streams_started_;
        common::logger("app").debug("stream start job={} from={} to={} peer={}", req.job(),
                                    req.from_sequence(), req.to_sequence(), ctx.peer());
        // Stream duration, observed however the stream ends (cancellation included).
        struct observe_duration {
            common::metrics::histogram& h;
            clock::time_point t0 = clock::now();
            ~observe_duration() {
                h.observe(std::chrono::duration<double>(clock::now() - t0).count());
            }
        } timed{stream_duration_};
        if (exec_) {
            co_return co_await exec_->generate(ctx, req, writer);
        }
        co_return co_await produce(req, writer, failure_epoch_, handoff_epoch_);
    }

    net::awaitable<void> drain_jobs_after(std::chrono::milliseconds d) {
        net::asio::steady_timer t(ex_);
        t.expires_after(d);
        auto [ec] = co_await t.async_wait(net::use_tuple);
        if (!ec && exec_ && exec_->running() > 0) {
            std::cout << fmt::format(
                             "⏱️  Worker {} drain timeout: stopping {} program(s); their "
                             "clients resume elsewhere",
                             cfg_.label, exec_->running())
                      << std::endl;
            exec_->drain_now();
        }
    }

    std::string exec_command() const {
        std::string s;
        for (const auto& a : cfg_.exec.argv) {
            s += (s.empty() ? "" : " ") + a;
        }
        return s;
    }

    const char* resume_name() const {
        return cfg_.exec.resume == cli::exec_resume::replay ? "replay" : "continue";
    }

    // The load gossiped as active_streams: streams, or programs still holding a slot if more.
    std::uint64_t load() const {
        return std::max<std::uint64_t>(active_, exec_ ? exec_->running() : 0);
    }

    net::awaitable<rpc::status> produce(const v1::GenerateRequest& req, rpc::stream_writer& writer,
                                        std::uint64_t epoch, std::uint64_t handoff) {
        net::asio::steady_timer pause(ex_);
        const auto interval =
            req.token_interval_us() != 0
                ? std::chrono::microseconds(req.token_interval_us())
                : std::chrono::duration_cast<std::chrono::microseconds>(cfg_.token_interval);
        v1::Token token;
        token.set_worker(cfg_.label);
        const auto started = clock::now();
        bool first = true;
        for (std::uint64_t seq = std::max<std::uint64_t>(1, req.from_sequence());
             req.to_sequence() == 0 || seq <= req.to_sequence(); ++seq) {
            if (failure_epoch_ != epoch) {
                co_return rpc::status{v1::WORKER_FAILED, "worker failed (simulated)"};
            }
            if (handoff_epoch_ != handoff) {
                ++handed_off_;
                co_return rpc::status{v1::WORKER_DRAINING, "worker drained: resume elsewhere"};
            }
            token.set_sequence(seq);
            token.set_text("token-" + std::to_string(seq));
            const auto ec = co_await writer.write(token.SerializeAsString());
            if (ec) {
                co_return rpc::status{v1::CANCELLED, "stream cancelled"};
            }
            if (first) {
                first = false;
                first_token_.observe(std::chrono::duration<double>(clock::now() - started).count());
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
        // The same load gossip reports (a program still exiting holds its slot), so the
        // director's two sources agree and a full worker does not flicker between them.
        resp.set_active_streams(static_cast<std::uint32_t>(load()));
        co_return std::pair{rpc::status{}, resp.SerializeAsString()};
    }

    // `rpcnetd drain|undrain`: gossip draining=true|false; with handoff, end running streams
    // (each at its next token) with WORKER_DRAINING so their clients resume elsewhere.
    net::awaitable<std::pair<rpc::status, std::string>> drain(rpc::call_context& ctx,
                                                              std::string request) {
        v1::DrainRequest req;
        if (!req.ParseFromString(request)) {
            co_return std::pair{rpc::status{v1::INVALID_ARGUMENT, "malformed DrainRequest"},
                                std::string{}};
        }
        const auto running = static_cast<std::uint32_t>(active_);
        if (req.drain() != draining_) {
            draining_ = req.drain();
            auto tags = node_.tags();
            tags[std::string(common::draining_tag)] = draining_ ? "true" : "false";
            node_.set_tags(std::move(tags));
            if (draining_) {
                std::cout << fmt::format("🚧 Worker {} draining: no new jobs, {} running "
                                         "stream(s) finish (asked by {})",
                                         cfg_.label, running, ctx.peer())
                          << std::endl;
            } else {
                std::cout << fmt::format("✅ Worker {} undrained: taking jobs again ({} running, "
                                         "asked by {})",
                                         cfg_.label, running, ctx.peer())
                          << std::endl;
            }
        }
        v1::DrainResponse resp;
        resp.set_draining(draining_);
        if (req.drain() && req.handoff() && running > 0) {
            ++handoff_epoch_;
            if (exec_) {
                exec_->drain_now();  // programs stopped, their streams end with WORKER_DRAINING
            }
            resp.set_handed_off(running);
            std::cout << fmt::format("🔀 Worker {} handing off {} running stream(s)", cfg_.label,
                                     running)
                      << std::endl;
        }
        resp.set_active_streams(req.handoff() ? 0 : running);
        co_return std::pair{rpc::status{}, resp.SerializeAsString()};
    }

    // Gossips the running-stream count when it changed, at most every report_interval.
    net::awaitable<void> report_loop() {
        std::uint64_t reported = 0;  // joined with active_streams=0
        while (!stopping_) {
            if (load() != reported && !failed_) {
                reported = load();
                auto tags = node_.tags();
                tags[std::string(common::active_streams_tag)] = std::to_string(reported);
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
        const auto in_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(next - clock::now());
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
            return;  // tag refreshes (stream counts) are not news for people
        }
        std::cout << describe_event(e) << std::endl;
    }

    // Joined: some other member is alive in our view. Accepting: not failed, not leaving.
    std::pair<bool, std::string> readiness() const {
        std::size_t others = 0;
        for (const auto& m : node_.members()) {
            others += m.name != node_.name() && m.status == membership::member_status::alive;
        }
        if (stopping_ || failed_ || !node_.accepting()) {
            return {false, "not ready: not accepting streams"};
        }
        if (others == 0) {
            return {false, "not ready: not joined to a cluster yet"};
        }
        return {true, fmt::format("ready: joined ({} other member(s) alive), accepting", others)};
    }

    v1::MembersResponse members_response() const {
        v1::MembersResponse resp;
        for (const auto& m : node_.members()) {
            auto* info = resp.add_members();
            fill_member_info(*info, m);
            if (m.name == node_.name()) {
                info->set_active_streams(static_cast<std::uint32_t>(active_));
            }
        }
        return resp;
    }

    void worker_metrics(common::metrics::exposition& e) const {
        e.gauge("rpcnetd_worker_active_streams", "Worker.Generate streams running now",
                static_cast<double>(active_));
        e.gauge("rpcnetd_worker_accepting", "1 while the worker takes new streams",
                stopping_ || failed_ || !node_.accepting() ? 0 : 1);
        e.counter("rpcnetd_worker_streams_started_total", "Worker.Generate streams started",
                  static_cast<double>(streams_started_));
        e.add_histogram("rpcnetd_worker_first_token_seconds",
                        "Time from a stream's start to its first token written", first_token_);
        e.add_histogram("rpcnetd_worker_stream_duration_seconds",
                        "Duration of Worker.Generate streams, however they ended",
                        stream_duration_);
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
    std::uint64_t streams_started_ = 0;
    common::metrics::histogram first_token_{common::metrics::latency_buckets()};
    common::metrics::histogram stream_duration_{common::metrics::duration_buckets()};
    std::unique_ptr<ops_endpoint> http_;
    std::uint64_t failure_epoch_ = 0;
    std::uint64_t handoff_epoch_ = 0;  // bumped by drain --handoff: running streams end
    std::uint64_t handed_off_ = 0;
    bool draining_ = false;
    bool failed_ = false;
    bool warned_ = false;
    bool stopping_ = false;
    std::optional<worker::exec_runner> exec_;
    net::task_group tasks_;  // last: the report and failure-cycle loops
};

}  // namespace

int run_worker(const cli::worker_config& cfg) {
    if (cfg.exec.enabled()) {
        worker::exec_runner::check_program(cfg.exec);  // exit 2 before anything starts
        // Writing a prompt to a program that already exited must be an EPIPE error, not the
        // end of the worker. Programs get the default disposition back (exec_process).
        std::signal(SIGPIPE, SIG_IGN);
    }
    return run_member<worker_app>(cfg);
}

}  // namespace rpcnetd::app
