// rpcnetd client: Director.Assign -> Worker.Generate stream, with lossless failover.
//
// The resume logic itself is the pure resume::resume_cursor; this file is the shell around it:
// connections, deadlines, back-off, and what the user sees (client_printer).
#include "app/client/client_printer.hpp"
#include "app/modes.hpp"
#include "app/shutdown.hpp"
#include "common/log.hpp"
#include "common/random.hpp"
#include "net/asio.hpp"
#include "proto/rpcnetd.pb.h"
#include "resume/delivered_context.hpp"
#include "resume/resume_cursor.hpp"
#include "rpc/channel.hpp"
#include "rpc/tls_context.hpp"

#include <fmt/format.h>

#include "common/error.hpp"

#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>

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
    enum class kind {
        completed,   // the job is finished (target reached, or the worker's Done)
        failed,      // the worker failed: report it, fail over, resume
        job_failed,  // APPLICATION_ERROR: the program failed; no failover, exit 3
        worker_full  // RESOURCE_EXHAUSTED: ask the director again (no report, no exclusion)
    };
    kind what = kind::failed;
    std::string reason;  // why the stream failed
    std::string stderr_tail;
    bool drained = false;  // the worker ended it with WORKER_DRAINING (drain, shutdown)
    bool completed() const noexcept { return what == kind::completed; }
};

stream_outcome failed(std::string reason) {
    return stream_outcome{stream_outcome::kind::failed, std::move(reason), {}};
}

// --prompt-file FILE or "-" (stdin); unreadable is a usage error (exit 2).
std::string read_prompt(const cli::client_config& cfg) {
    if (cfg.prompt_file.empty()) {
        return cfg.prompt;
    }
    std::ifstream file;
    std::istream* in = &std::cin;
    if (cfg.prompt_file != "-") {
        file.open(cfg.prompt_file, std::ios::binary);
        if (!file) {
            throw usage_error("cannot read --prompt-file '" + cfg.prompt_file +
                              "' (give a readable file, or - for stdin)");
        }
        in = &file;
    }
    std::ostringstream text;
    text << in->rdbuf();
    if (in->bad()) {
        throw usage_error("cannot read --prompt-file '" + cfg.prompt_file + "'");
    }
    return text.str();
}

// "…; retry-after=500ms" in a RESOURCE_EXHAUSTED message from Director.Assign.
std::optional<std::chrono::milliseconds> retry_after(const std::string& message) {
    const auto pos = message.find("retry-after=");
    if (pos == std::string::npos) {
        return std::nullopt;
    }
    std::uint64_t ms = 0;
    bool any = false;
    for (std::size_t i = pos + 12; i < message.size() && message[i] >= '0' && message[i] <= '9';
         ++i) {
        ms = ms * 10 + static_cast<std::uint64_t>(message[i] - '0');
        any = true;
        if (ms > 3'600'000) {
            break;
        }
    }
    if (!any) {
        return std::nullopt;
    }
    return std::chrono::milliseconds(std::min<std::uint64_t>(ms, 3'600'000));
}

class client_app {
public:
    client_app(net::asio::any_io_executor ex, const cli::client_config& cfg)
        : ex_(std::move(ex)), cfg_(cfg), rng_(common::random_seed()),
          printer_(std::cout, cfg.output, &std::cerr), cursor_(cfg.tokens),
          prompt_(read_prompt(cfg)), context_(cfg.resume_context_limit),
          tls_(rpc::tls_context::make_client(cfg.common.tls)), client_id_(random_hex(rng_)),
          job_(cfg.job.empty() ? "job-" + random_hex(rng_) : cfg.job) {
        // A failover resumes the TLS session of the worker before (rpc/tls_context.hpp).
        rpc::tls_context::enable_resumption(*tls_);
        opts_.tls = cfg.common.tls;
        opts_.connect_timeout = cfg.connect_timeout;
        opts_.node_name = "client-" + client_id_;
        // Start at a random director: clients given the same list spread over all of them.
        next_director_ = static_cast<std::size_t>(rng_() % cfg.directors.size());
    }

    // Exit code: 0 after --tokens N or the job's end, 1 when no director or worker was found
    // within --wait-timeout, 3 when the job itself failed (APPLICATION_ERROR).
    net::awaitable<int> run() {
        auto full_backoff = std::chrono::milliseconds(100);
        while (!cursor_.done()) {
            auto assignment = co_await assign_with_wait();
            if (!assignment) {
                co_return 1;
            }
            const auto outcome = co_await stream_from(*assignment);
            // A failure report carries the lease (the director releases it with the report);
            // every other ending releases it here.
            const bool reported = outcome.what == stream_outcome::kind::failed && !outcome.drained;
            if (!reported) {
                co_await release(assignment->lease());
            }
            if (outcome.completed()) {
                break;
            }
            if (outcome.what == stream_outcome::kind::job_failed) {
                printer_.flush();
                printer_.error(outcome.reason, outcome.stderr_tail);
                director_.close();
                co_return 3;
            }
            if (outcome.what == stream_outcome::kind::worker_full) {
                // Not a failure: the worker is busy. The director learns it is full from its
                // gossip; ask again a little later.
                printer_.waiting(outcome.reason);
                co_await sleep_jittered(full_backoff);
                full_backoff = std::min<std::chrono::milliseconds>(full_backoff * 2, 2s);
                continue;
            }
            ++failovers_;
            failed_at_ = clock::now();
            excluded_[assignment->worker()] = *failed_at_;
            printer_.failover(assignment->worker(), outcome.reason, cursor_.next_from());
            if (!outcome.drained) {  // a drained worker is fine
                // The report rides on the next Assign: one round trip to the director.
                pending_report_.emplace();
                pending_report_->set_worker(assignment->worker());
                pending_report_->set_reason(outcome.reason);
                // Without mTLS the lease belongs to the connection that was assigned it: over a
                // new connection it is not ours to release (ensure_director drops it then).
                if (director_.is_open()) {
                    pending_report_->set_lease(assignment->lease());
                }
            }
        }
        printer_.flush();
        printer_.done(cursor_.delivered_count(), failovers_);
        director_.close();
        co_return 0;
    }

    std::uint64_t delivered() const { return cursor_.delivered_count(); }
    std::uint64_t failovers() const { return failovers_; }
    void print_done() {
        printer_.flush();
        printer_.done(cursor_.delivered_count(), failovers_);
    }

private:
    // Director.Assign, retried with back-off while no director answers or no worker matches.
    net::awaitable<std::optional<v1::AssignResponse>> assign_with_wait() {
        const auto give_up = clock::now() + cfg_.wait_timeout;
        auto backoff = std::chrono::milliseconds(100);
        std::string last_wait;
        std::uint64_t last_position = 0;
        for (;;) {
            std::string why;
            std::optional<std::chrono::milliseconds> pause;
            const bool have_director = co_await ensure_director();
            if (have_director) {
                // A call holding a queue place waits there up to the director's queue timeout.
                const auto timeout = ticket_ != 0 ? queue_timeout_ + 5s : 2s;
                auto r = co_await director_.unary("Director.Assign", assign_request(), timeout);
                if (r.st.ok()) {
                    v1::AssignResponse resp;
                    if (resp.ParseFromString(r.response) && resp.worker().empty() &&
                        resp.queue_ticket() != 0) {
                        co_await report_sent(resp);
                        ticket_ = resp.queue_ticket();
                        queue_timeout_ = std::chrono::milliseconds(resp.queue_timeout_ms());
                        if (resp.queue_position() != last_position) {
                            last_position = resp.queue_position();
                            printer_.queued(last_position);
                        }
                        continue;  // back at once, holding the place
                    }
                    ticket_ = 0;
                    co_await report_sent(resp);
                    if (!resp.worker().empty()) {
                        assigned_at_ = clock::now();
                        printer_.assigned(resp.worker(), resp.rpc_addr(), cursor_.next_from(),
                                          director_addr_);
                        co_return resp;
                    }
                    why = "director sent a malformed assignment";
                } else {
                    why = assign_refused(r.st, pause, last_position);
                }
            } else {
                why = "no director reachable at " + director_list();
            }
            if (clock::now() >= give_up) {
                std::cerr << "rpcnetd: " << why << " (gave up after "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(
                                 cfg_.wait_timeout)
                                 .count()
                          << "ms)\n";
                co_return std::nullopt;
            }
            if (why != last_wait) {
                printer_.waiting(why);
                last_wait = why;
            }
            co_await sleep_jittered(std::min<std::chrono::milliseconds>(
                pause.value_or(backoff),
                std::chrono::duration_cast<std::chrono::milliseconds>(give_up - clock::now()) +
                    1ms));
            if (!pause) {
                backoff = std::min<std::chrono::milliseconds>(backoff * 2, 2s);
            }
        }
    }

    // A Director.Assign the director refused: why (for the waiting message). A busy director's
    // retry hint goes to pause; any other refusal closes the connection to it.
    std::string assign_refused(const rpc::status& st,
                               std::optional<std::chrono::milliseconds>& pause,
                               std::uint64_t& last_position) {
        ticket_ = 0;
        if (st.code == v1::NO_WORKERS) {
            // The director answered, so it read the report (an older director that ignores
            // AssignRequest.report loses it here; its health checks still see the worker gone).
            pending_report_.reset();
            return st.message.empty() ? "no workers available" : st.message;
        }
        if (st.code == v1::RESOURCE_EXHAUSTED) {
            // Queue full or the wait timed out: try again when the director suggests.
            pending_report_.reset();
            last_position = 0;
            pause = retry_after(st.message);
            return "director busy: " + st.message;
        }
        std::string why = "director: " + st.to_string();
        director_.close();
        return why;
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
        req.set_queue_ticket(ticket_);
        req.set_affinity(cfg_.affinity);
        if (pending_report_) {
            *req.mutable_report() = *pending_report_;
        }
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
            auto r = co_await rpc::channel::connect(ex_, target, tls_, opts_);
            if (r) {
                director_ = *r;
                if (pending_report_) {
                    pending_report_->clear_lease();  // the lease was bound to the old connection
                }
                next_director_ = (next_director_ + i) % cfg_.directors.size();
                director_addr_ = target.to_string();
                if (director_addr_ != last_director_) {
                    ticket_ = 0;  // a queue place is held at one director only
                    last_director_ = director_addr_;
                }
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
            co_return failed("director sent a bad worker address");
        }
        auto worker_opts = opts_;
        worker_opts.early_calls = true;  // Generate goes out with the handshake's last flight
        auto conn = co_await rpc::channel::connect(ex_, *addr, tls_, worker_opts);
        if (!conn) {
            co_return failed("connect: " + conn.error().message());
        }
        connected_at_ = clock::now();
        rpc::channel worker = *conn;
        resumed_ = worker.resumed();
        const std::uint64_t attempt = cursor_.begin_next_stream();
        v1::GenerateRequest req;
        req.set_job(job_);
        req.set_prompt(prompt_);
        req.set_from_sequence(cursor_.next_from());
        if (cursor_.next_from() > 1) {
            const auto [text, dropped] = context_.view();
            req.set_context(text.data(), text.size());
            req.set_context_dropped(dropped);
        }
        req.set_to_sequence(cfg_.tokens);
        auto stream = co_await worker.open_stream("Worker.Generate", req.SerializeAsString());
        sent_at_ = clock::now();
        stream_outcome out = co_await consume(stream, attempt);
        if (!out.completed()) {
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
                    co_return failed("malformed token");
                }
                switch (cursor_.on_token(attempt, token.sequence())) {
                case resume::token_verdict::deliver: {
                    const std::string& text = token.raw().empty() ? token.text() : token.raw();
                    printer_.token(token.sequence(), text, token.worker(),
                                   cursor_.delivered_count(), token.chunk());
                    context_.add(text, token.chunk());
                    if (failed_at_) {
                        log_failover_phases();
                    }
                    if (cursor_.done()) {
                        co_return stream_outcome{stream_outcome::kind::completed, {}, {}};
                    }
                    if (!stream.buffered()) {
                        printer_.flush();  // raw output: write when the stream goes quiet
                    }
                    break;
                }
                case resume::token_verdict::gap:
                    co_return failed(fmt::format("sequence gap at {}", token.sequence()));
                default:
                    break;  // duplicates and stale frames are dropped
                }
                break;
            }
            case rpc::stream_item::kind::finished:
                co_return finished(item.st, attempt);
            case rpc::stream_item::kind::timeout:
                co_return failed(
                    fmt::format("no token for {}ms", cfg_.stream_idle_timeout.count()));
            case rpc::stream_item::kind::error:
                co_return failed(item.st.to_string());
            }
        }
    }

    // The worker ended the stream with a status.
    stream_outcome finished(const rpc::status& st, std::uint64_t attempt) {
        if (st.ok()) {
            // Done: the job produced everything it will (the built-in generator ends only at
            // --tokens N; a program ends when it exits 0).
            cursor_.on_end(attempt);
            return stream_outcome{stream_outcome::kind::completed, {}, {}};
        }
        if (st.code == v1::APPLICATION_ERROR) {
            return stream_outcome{stream_outcome::kind::job_failed, st.message, st.detail};
        }
        if (st.code == v1::RESOURCE_EXHAUSTED) {
            return stream_outcome{stream_outcome::kind::worker_full, st.to_string(), {}};
        }
        auto out = failed(st.to_string());  // WORKER_FAILED, WORKER_DRAINING, UNAVAILABLE, ...
        // A draining worker is healthy: fail over without reporting it.
        out.drained = st.code == v1::WORKER_DRAINING;
        return out;
    }

    // After an Assign answer: a director that did not apply the report riding on it (one from
    // before AssignRequest.report) gets it as Director.ReportFailure.
    net::awaitable<void> report_sent(const v1::AssignResponse& resp) {
        if (!pending_report_) {
            co_return;
        }
        const auto req = std::move(*pending_report_);
        pending_report_.reset();
        if (resp.report_accepted()) {
            co_return;
        }
        auto r = co_await director_.unary("Director.ReportFailure", req.SerializeAsString(), 1s);
        if (!r.st.ok() && r.st.code != v1::UNIMPLEMENTED) {
            director_.close();
        }
    }

    // The first token after a failover: where the time went since the failure was seen (debug;
    // tests/bench/cluster_failover_load_bench reads it).
    void log_failover_phases() {
        const auto us = [](clock::time_point a, clock::time_point b) {
            return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
        };
        const auto now = clock::now();
        common::logger("app").debug(
            "failover phases director_us={} connect_us={} open_us={} first_token_us={} total_us={} "
            "tls_resumed={}",
            us(*failed_at_, assigned_at_), us(assigned_at_, connected_at_),
            us(connected_at_, sent_at_), us(sent_at_, now), us(*failed_at_, now), resumed_);
        failed_at_.reset();
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
    resume::resume_cursor cursor_;
    std::string prompt_;
    resume::delivered_context context_;
    std::shared_ptr<boost::asio::ssl::context> tls_;
    rpc::channel_options opts_;
    std::string client_id_;
    std::string job_;
    rpc::channel director_;
    std::size_t next_director_ = 0;
    std::string director_addr_;  // the director connected now (H:P)
    std::string last_director_;
    std::uint64_t ticket_ = 0;  // admission queue place held at director_addr_
    std::chrono::milliseconds queue_timeout_{30000};
    std::map<std::string, clock::time_point> excluded_;
    std::uint64_t failovers_ = 0;
    std::optional<v1::ReportFailureRequest> pending_report_;  // rides on the next Assign
    // Failover phases (log_failover_phases): set while the first token after a failure is due.
    std::optional<clock::time_point> failed_at_;
    clock::time_point assigned_at_;
    clock::time_point connected_at_;
    clock::time_point sent_at_;
    bool resumed_ = false;  // the worker's TLS session was resumed
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

}  // namespace

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

}  // namespace rpcnetd::app
