// rpcnetd client: Director.Assign -> Worker.Generate stream, with lossless failover.
//
// The resume logic itself is the pure client::resume_cursor; this file is the shell around it:
// connections, deadlines, back-off, and what the user sees (client_printer).
#include "app/client_printer.hpp"
#include "app/modes.hpp"
#include "app/shutdown.hpp"
#include "client/resume_cursor.hpp"
#include "common/log.hpp"
#include "common/random.hpp"
#include "net/asio.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/client.hpp"
#include "rpc/tls_context.hpp"

#include <fmt/format.h>

#include <iostream>
#include <map>
#include <optional>
#include <random>

namespace rpcnetd::app {
namespace {

using namespace std::chrono_literals;
using common::clock;

// How long a worker this client saw fail is excluded from its own assignments. The director
// stops assigning it anyway (the report marks it unhealthy until its health check or a
// refutation proves it back); this only covers the moment before the director has heard.
constexpr auto exclude_window = 1s;

std::string random_hex(common::rng& r) {
    return fmt::format("{:016x}", r());
}

struct stream_outcome {
    bool completed = false;
    std::string reason; // why the stream failed
};

class client_app {
public:
    client_app(net::asio::any_io_executor ex, const cli::client_config& cfg)
        : ex_(std::move(ex)), cfg_(cfg), rng_(common::random_seed()),
          printer_(std::cout, cfg.output), cursor_(cfg.tokens),
          tls_(rpc::tls_context::make_client(cfg.common.tls)), client_id_(random_hex(rng_)),
          job_(cfg.job.empty() ? "job-" + random_hex(rng_) : cfg.job) {
        opts_.tls = cfg.common.tls;
        opts_.connect_timeout = cfg.connect_timeout;
        opts_.node_name = "client-" + client_id_;
    }

    // Exit code: 0 after --tokens N, 1 when no director or worker was found within
    // --wait-timeout.
    net::awaitable<int> run() {
        while (!cursor_.done()) {
            auto assignment = co_await assign_with_wait();
            if (!assignment) {
                co_return 1;
            }
            const auto outcome = co_await stream_from(*assignment);
            if (outcome.completed) {
                co_await release(assignment->lease());
                break;
            }
            ++failovers_;
            excluded_[assignment->worker()] = clock::now();
            printer_.failover(assignment->worker(), outcome.reason, cursor_.next_from());
            co_await report_failure(*assignment, outcome.reason);
        }
        printer_.done(cursor_.delivered_count(), failovers_);
        director_.close();
        co_return 0;
    }

    std::uint64_t delivered() const { return cursor_.delivered_count(); }
    std::uint64_t failovers() const { return failovers_; }
    void print_done() { printer_.done(cursor_.delivered_count(), failovers_); }

private:
    // Director.Assign, retried with back-off while no director answers or no worker matches.
    net::awaitable<std::optional<v1::AssignResponse>> assign_with_wait() {
        const auto give_up = clock::now() + cfg_.wait_timeout;
        auto backoff = std::chrono::milliseconds(100);
        std::string last_wait;
        for (;;) {
            std::string why;
            const bool have_director = co_await ensure_director();
            if (have_director) {
                auto r = co_await director_.unary("Director.Assign", assign_request(), 2s);
                if (r.st.ok()) {
                    v1::AssignResponse resp;
                    if (resp.ParseFromString(r.response)) {
                        printer_.assigned(resp.worker(), resp.rpc_addr(), cursor_.next_from());
                        co_return resp;
                    }
                    why = "director sent a malformed assignment";
                } else if (r.st.code == v1::NO_WORKERS) {
                    why = r.st.message.empty() ? "no workers available" : r.st.message;
                } else {
                    why = "director: " + r.st.to_string();
                    director_.close();
                }
            } else {
                why = "no director reachable at " + director_list();
            }
            if (clock::now() >= give_up) {
                std::cerr << "rpcnetd: " << why << " (gave up after "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(
                                 cfg_.wait_timeout).count()
                          << "ms)\n";
                co_return std::nullopt;
            }
            if (why != last_wait) {
                printer_.waiting(why);
                last_wait = why;
            }
            co_await sleep_jittered(std::min<std::chrono::milliseconds>(
                backoff, std::chrono::duration_cast<std::chrono::milliseconds>(
                             give_up - clock::now()) + 1ms));
            backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2s);
        }
    }

    std::string assign_request() {
        v1::AssignRequest req;
        for (const auto& [k, v] : cfg_.filter) {
            auto* t = req.add_filter();
            t->set_key(k);
            t->set_value(v);
        }
        const auto now = clock::now();
        for (auto it = excluded_.begin(); it != excluded_.end();) {
            if (now - it->second > exclude_window) {
                it = excluded_.erase(it);
            } else {
                req.add_exclude(it->first);
                ++it;
            }
        }
        req.set_job(job_);
        req.set_client(client_id_);
        return req.SerializeAsString();
    }

    // Connects to the first director of the list that answers (starting after the last one that
    // failed), unless a connection is already open.
    net::awaitable<bool> ensure_director() {
        if (director_.is_open()) {
            co_return true;
        }
        for (std::size_t i = 0; i < cfg_.directors.size(); ++i) {
            const auto& target = cfg_.directors[(next_director_ + i) % cfg_.directors.size()];
            auto r = co_await rpc::client::connect(ex_, target, tls_, opts_);
            if (r) {
                director_ = *r;
                next_director_ = (next_director_ + i) % cfg_.directors.size();
                co_return true;
            }
            common::logger("app").debug("director connect failed addr={} err={}",
                                        target.to_string(), r.error().message());
        }
        next_director_ = (next_director_ + 1) % cfg_.directors.size();
        co_return false;
    }

    // Streams from one worker until the target is reached or the worker fails.
    net::awaitable<stream_outcome> stream_from(const v1::AssignResponse& a) {
        auto addr = common::parse_endpoint(a.rpc_addr());
        if (!addr) {
            co_return stream_outcome{false, "director sent a bad worker address"};
        }
        auto conn = co_await rpc::client::connect(ex_, *addr, tls_, opts_);
        if (!conn) {
            co_return stream_outcome{false, "connect: " + conn.error().message()};
        }
        rpc::client worker = *conn;
        const std::uint64_t attempt = cursor_.begin_next_stream();
        v1::GenerateRequest req;
        req.set_job(job_);
        req.set_prompt(cfg_.prompt);
        req.set_from_sequence(cursor_.next_from());
        req.set_to_sequence(cfg_.tokens);
        auto stream = co_await worker.open_stream("Worker.Generate", req.SerializeAsString());
        stream_outcome out = co_await consume(stream, attempt);
        if (!out.completed) {
            cursor_.abandon();
            stream.cancel();
        }
        worker.close();
        co_return out;
    }

    net::awaitable<stream_outcome> consume(rpc::client_stream& stream, std::uint64_t attempt) {
        for (;;) {
            auto item = co_await stream.next(cfg_.stream_idle_timeout);
            switch (item.what) {
            case rpc::stream_item::kind::message: {
                v1::Token token;
                if (!token.ParseFromString(item.message)) {
                    co_return stream_outcome{false, "malformed token"};
                }
                switch (cursor_.on_token(attempt, token.sequence())) {
                case client::token_verdict::deliver:
                    printer_.token(token.sequence(), token.text(), token.worker(),
                                   cursor_.delivered_count());
                    if (cursor_.done()) {
                        co_return stream_outcome{true, {}};
                    }
                    break;
                case client::token_verdict::gap:
                    co_return stream_outcome{
                        false, fmt::format("sequence gap at {}", token.sequence())};
                default:
                    break; // duplicates and stale frames are dropped
                }
                break;
            }
            case rpc::stream_item::kind::finished:
                if (item.st.ok() && cursor_.on_end(attempt) == client::end_verdict::complete) {
                    co_return stream_outcome{true, {}};
                }
                co_return stream_outcome{false, item.st.ok() ? std::string("stream ended early")
                                                             : item.st.to_string()};
            case rpc::stream_item::kind::timeout:
                co_return stream_outcome{
                    false, fmt::format("no token for {}ms", cfg_.stream_idle_timeout.count())};
            case rpc::stream_item::kind::error:
                co_return stream_outcome{false, item.st.to_string()};
            }
        }
    }

    net::awaitable<void> report_failure(const v1::AssignResponse& a, const std::string& reason) {
        // Without mTLS the lease belongs to the connection that was assigned it: over a new
        // connection it is not ours to release (it expires at the director instead).
        const bool same_connection = director_.is_open();
        const bool have_director = co_await ensure_director();
        if (!have_director) {
            co_return;
        }
        v1::ReportFailureRequest req;
        req.set_worker(a.worker());
        req.set_reason(reason);
        if (same_connection) {
            req.set_lease(a.lease()); // releases it too
        }
        auto r = co_await director_.unary("Director.ReportFailure", req.SerializeAsString(), 1s);
        if (!r.st.ok() && r.st.code != v1::UNIMPLEMENTED) {
            director_.close();
        }
    }

    net::awaitable<void> release(const std::string& lease) {
        if (lease.empty() || !director_.is_open()) {
            co_return;
        }
        v1::ReleaseRequest req;
        req.set_lease(lease);
        auto r = co_await director_.unary("Director.Release", req.SerializeAsString(), 1s);
        if (r.st.code == v1::UNAVAILABLE) {
            director_.close();
        }
    }

    net::awaitable<void> sleep_jittered(std::chrono::milliseconds d) {
        std::uniform_real_distribution<double> jitter(0.8, 1.2);
        net::asio::steady_timer t(ex_);
        t.expires_after(std::chrono::duration_cast<clock::duration>(d * jitter(rng_)));
        co_await t.async_wait(net::use_tuple);
    }

    std::string director_list() const {
        std::string s;
        for (const auto& d : cfg_.directors) {
            s += (s.empty() ? "" : ",") + d.to_string();
        }
        return s;
    }

    net::asio::any_io_executor ex_;
    const cli::client_config& cfg_;
    common::rng rng_;
    client_printer printer_;
    client::resume_cursor cursor_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    rpc::client_options opts_;
    std::string client_id_;
    std::string job_;
    rpc::client director_;
    std::size_t next_director_ = 0;
    std::map<std::string, clock::time_point> excluded_;
    std::uint64_t failovers_ = 0;
};

net::awaitable<void> stop_on_signal(shutdown_signal& sig, client_app& app, int& exit_code,
                                    net::asio::io_context& ioc) {
    const int signo = co_await sig.wait();
    if (signo != 0) {
        app.print_done();
        exit_code = 0;
        ioc.stop();
    }
}

} // namespace

int run_client(const cli::client_config& cfg) {
    net::asio::io_context ioc(1);
    client_app app(ioc.get_executor(), cfg);
    shutdown_signal sig(ioc.get_executor());
    int exit_code = 1;
    net::asio::co_spawn(ioc, stop_on_signal(sig, app, exit_code, ioc), net::asio::detached);
    net::asio::co_spawn(ioc, app.run(), [&](const std::exception_ptr& e, int code) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::cerr << "rpcnetd: client failed: " << ex.what() << "\n";
            }
            exit_code = 1;
        } else {
            exit_code = code;
        }
        sig.cancel();
        ioc.stop();
    });
    ioc.run();
    return exit_code;
}

} // namespace rpcnetd::app
