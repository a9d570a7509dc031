#pragma once
// One running program of `worker --exec`: its process (exec_process), its pipes as Asio
// descriptors and the coroutines around it. The Generate handler reads stdout_pipe(); the job's
// own coroutines (spawned into the runner's task_group, so they outlive a cancelled call) write
// the prompt to stdin, keep and log stderr, enforce --job-timeout and --exec-kill-timeout, and
// reap the process.
//
// Lifetime: shared by the handler and those coroutines (each holds a shared_ptr), so it lives
// until the process is reaped and the call has ended, whichever is later. Single-threaded: the
// worker's I/O thread only.
#include "app/worker/exec_process.hpp"
#include "app/worker/stderr_tail.hpp"
#include "common/time.hpp"
#include "net/asio.hpp"
#include "net/task_group.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace rpcnetd::app::worker {

// Why the worker stopped the program early (the first reason wins).
enum class stop_reason { none, cancelled, target_reached, token_too_long, timeout, draining };

class exec_job : public std::enable_shared_from_this<exec_job> {
public:
    struct settings {
        std::string job;
        std::chrono::milliseconds job_timeout{0};  // 0 = none
        std::chrono::milliseconds kill_timeout{2000};
        std::string context_file;  // removed when the job ends; empty = none
    };

    exec_job(net::asio::any_io_executor ex, exec_process proc, settings s);
    ~exec_job();
    exec_job(const exec_job&) = delete;
    exec_job& operator=(const exec_job&) = delete;

    // Spawns the stdin writer, stderr reader, watchdog and reaper into `tasks`. on_finished runs
    // once, when the process is reaped and its stderr read (the job's slot is free again).
    void start(net::task_group& tasks, std::string prompt, std::function<void()> on_finished);

    net::asio::posix::stream_descriptor& stdout_pipe() noexcept { return stdout_; }
    // True once the process is reaped and stdout should no longer be awaited (a process that
    // escaped the group may hold it open): read what is buffered without waiting.
    bool stdout_cut() const noexcept { return stdout_cut_; }

    // SIGTERM to the process group now, SIGKILL --exec-kill-timeout later. Records `why` if no
    // reason was recorded yet.
    void terminate(stop_reason why);
    stop_reason reason() const noexcept { return reason_; }

    // Completes when finished() (or when the awaiting coroutine is cancelled).
    net::awaitable<void> wait_finished();
    bool finished() const noexcept { return finished_; }
    // After finished(): the leader's wait status and the last <= 4 KiB of stderr.
    int wait_status() const noexcept { return wait_status_; }
    std::string stderr_text() const { return stderr_.tail(); }
    const std::string& id() const noexcept { return settings_.job; }
    pid_t pid() const noexcept { return proc_.pid(); }

private:
    net::awaitable<void> write_stdin(std::shared_ptr<exec_job> self, std::string prompt);
    net::awaitable<void> read_stderr(std::shared_ptr<exec_job> self);
    net::awaitable<void> watchdog(std::shared_ptr<exec_job> self);
    net::awaitable<void> reaper(std::shared_ptr<exec_job> self);
    void finish();

    settings settings_;
    exec_process proc_;
    net::asio::posix::stream_descriptor stdin_;
    net::asio::posix::stream_descriptor stdout_;
    net::asio::posix::stream_descriptor stderr_pipe_;
    net::asio::posix::stream_descriptor pidfd_;
    net::asio::steady_timer watchdog_timer_;
    net::asio::steady_timer finished_signal_;
    stderr_tail stderr_;
    stop_reason reason_ = stop_reason::none;
    common::time_point job_deadline_ = common::time_point::max();
    common::time_point kill_at_ = common::time_point::max();
    bool reaped_ = false;
    bool stderr_eof_ = false;
    bool stdout_cut_ = false;
    bool finished_ = false;
    int wait_status_ = 0;
    std::function<void()> on_finished_;
};

}  // namespace rpcnetd::app::worker
