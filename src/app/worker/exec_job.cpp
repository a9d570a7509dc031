#include "app/worker/exec_job.hpp"

#include "common/log.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <csignal>
#include <cstdio>

namespace rpcnetd::app::worker {
namespace {

namespace asio = net::asio;
using namespace std::chrono_literals;

spdlog::logger& log() {
    static spdlog::logger& l = common::logger("app");
    return l;
}

// After the leader exits, stderr gets this long to reach end of file (a process that escaped
// the group may hold it open); the tail is what arrived until then.
constexpr auto stderr_grace = 1s;

net::awaitable<bool> cancelled_here() {
    auto cs = co_await asio::this_coro::cancellation_state;
    co_return cs.cancelled() != asio::cancellation_type::none;
}

}  // namespace

exec_job::exec_job(asio::any_io_executor ex, exec_process proc, settings s)
    : settings_(std::move(s)), proc_(std::move(proc)), stdin_(ex, proc_.release_stdin()),
      stdout_(ex, proc_.release_stdout()), stderr_pipe_(ex, proc_.release_stderr()),
      pidfd_(ex, proc_.release_pidfd()), watchdog_timer_(ex), finished_signal_(ex) {
    if (settings_.job_timeout.count() > 0) {
        job_deadline_ = common::clock::now() + settings_.job_timeout;
    }
}

exec_job::~exec_job() {
    // proc_'s destructor kills and reaps the group if the reaper never ran.
    if (!settings_.context_file.empty()) {
        std::remove(settings_.context_file.c_str());
    }
}

void exec_job::start(net::task_group& tasks, std::string prompt,
                     std::function<void()> on_finished) {
    on_finished_ = std::move(on_finished);
    auto self = shared_from_this();
    tasks.spawn(write_stdin(self, std::move(prompt)));
    tasks.spawn(read_stderr(self));
    tasks.spawn(watchdog(self));
    tasks.spawn(reaper(self));
}

void exec_job::terminate(stop_reason why) {
    if (reason_ == stop_reason::none) {
        reason_ = why;
    }
    if (reaped_ || kill_at_ != common::time_point::max()) {
        return;  // already gone, or SIGTERM already sent
    }
    log().debug("job stop job={} pid={} signal=SIGTERM", settings_.job, proc_.pid());
    proc_.signal_group(SIGTERM);
    kill_at_ = common::clock::now() + settings_.kill_timeout;
    watchdog_timer_.cancel();  // re-arm for kill_at_
}

net::awaitable<void> exec_job::wait_finished() {
    while (!finished_) {
        finished_signal_.expires_at(common::time_point::max());
        co_await finished_signal_.async_wait(net::use_tuple);
        // (No co_await inside && or ||: GCC 12 miscompiles it.)
        const bool cancelled = co_await cancelled_here();
        if (!finished_ && cancelled) {
            co_return;
        }
    }
}

net::awaitable<void> exec_job::write_stdin(std::shared_ptr<exec_job> self, std::string prompt) {
    // A program that never reads stdin makes this fail with EPIPE (SIGPIPE is ignored in the
    // worker) or wait until it exits; either way the prompt is also in RPCNETD_PROMPT.
    co_await asio::async_write(stdin_, asio::buffer(prompt), net::use_tuple);
    net::error_code ignored;
    stdin_.close(ignored);
    (void)self;
}

net::awaitable<void> exec_job::read_stderr(std::shared_ptr<exec_job> self) {
    std::array<char, 4096> buf{};
    auto window_start = common::clock::now();
    for (;;) {
        auto [ec, n] = co_await stderr_pipe_.async_read_some(asio::buffer(buf), net::use_tuple);
        if (n > 0) {
            const auto now = common::clock::now();
            if (now - window_start >= 1s) {
                window_start = now;
                if (const auto skipped = stderr_.new_window(); skipped > 0) {
                    log().info("job stderr job={} skipped_lines={}", settings_.job, skipped);
                }
            }
            for (const auto& line : stderr_.put(std::string_view(buf.data(), n))) {
                log().info("job stderr job={} line={}", settings_.job, line);
            }
        }
        if (ec) {
            break;  // EOF, or cancelled after the grace period / worker stop
        }
    }
    stderr_eof_ = true;
    watchdog_timer_.cancel();  // the reaper may be waiting for us
    (void)self;
}

net::awaitable<void> exec_job::watchdog(std::shared_ptr<exec_job> self) {
    while (!reaped_) {
        watchdog_timer_.expires_at(std::min(job_deadline_, kill_at_));
        auto [ec] = co_await watchdog_timer_.async_wait(net::use_tuple);
        const bool cancelled = co_await cancelled_here();
        if (reaped_ || (ec && cancelled)) {
            break;
        }
        const auto now = common::clock::now();
        if (now >= kill_at_) {
            log().info("job kill job={} pid={} signal=SIGKILL after={}ms", settings_.job,
                       proc_.pid(), settings_.kill_timeout.count());
            proc_.signal_group(SIGKILL);
            kill_at_ = common::time_point::max();
        } else if (now >= job_deadline_) {
            job_deadline_ = common::time_point::max();
            log().info("job timeout job={} pid={} after={}ms", settings_.job, proc_.pid(),
                       settings_.job_timeout.count());
            terminate(stop_reason::timeout);
        }
    }
    (void)self;
}

net::awaitable<void> exec_job::reaper(std::shared_ptr<exec_job> self) {
    auto [ec] = co_await pidfd_.async_wait(asio::posix::descriptor_base::wait_read, net::use_tuple);
    // Readable = the leader exited. Cancelled = the worker is stopping: reap() kills first.
    wait_status_ = proc_.reap();
    reaped_ = true;
    log().debug("job exited job={} pid={} {}", settings_.job, proc_.pid(),
                describe_wait_status(wait_status_));
    // The group is dead; whatever is still in the stdout pipe is read without waiting (the
    // handler checks stdout_cut() whenever the pipe has nothing).
    stdout_cut_ = true;
    net::error_code ignored;
    if (!ec && !stderr_eof_) {
        watchdog_timer_.expires_after(stderr_grace);
        co_await watchdog_timer_.async_wait(net::use_tuple);
    }
    stderr_pipe_.cancel(ignored);
    pidfd_.close(ignored);
    finish();
    (void)self;
}

void exec_job::finish() {
    if (finished_) {
        return;
    }
    finished_ = true;
    if (!settings_.context_file.empty()) {
        std::remove(settings_.context_file.c_str());
        settings_.context_file.clear();
    }
    finished_signal_.cancel();
    if (on_finished_) {
        auto cb = std::move(on_finished_);
        cb();
    }
}

}  // namespace rpcnetd::app::worker
