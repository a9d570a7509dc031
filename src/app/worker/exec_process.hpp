#pragma once
// One child process of `worker --exec`, started with posix_spawn in its own process group, with
// pipes for stdin, stdout and stderr and a pidfd to learn that it exited.
//
// Why posix_spawn + pidfd and not Boost.Process: POSIX_SPAWN_SETPGROUP puts the program in a
// new process group atomically at spawn, so killpg() reaches every process it forks; the pidfd
// (Linux >= 5.3) becomes readable when the child exits, which Asio awaits like any descriptor,
// with no process-wide SIGCHLD handler to share with other code; and because nothing else calls
// waitpid, the pid cannot be reused while the group is still signalled: the group is killed
// while the exited leader is still a zombie, then the leader is reaped. The destructor kills and
// reaps whatever is left, so no path leaves a zombie or an orphaned group behind.
//
// Owned by one exec_job on the worker's I/O thread. Not copyable; movable.
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace rpcnetd::app::worker {

class exec_process {
public:
    // Starts argv[0] (searched in the PATH of env when it has no '/') with exactly env. The
    // returned process owns the parent's ends of its pipes. Throws std::system_error when the
    // program cannot be started (the errno of exec: ENOENT, EACCES, ...).
    static exec_process spawn(const std::vector<std::string>& argv,
                              const std::vector<std::string>& env);

    exec_process(exec_process&& other) noexcept;
    exec_process& operator=(exec_process&&) = delete;
    exec_process(const exec_process&) = delete;
    ~exec_process();

    pid_t pid() const noexcept { return pid_; }
    // Parent ends, non-blocking, close-on-exec. release_*() hands one over (to Asio); -1 after.
    int release_stdin() noexcept { return std::exchange(stdin_, -1); }
    int release_stdout() noexcept { return std::exchange(stdout_, -1); }
    int release_stderr() noexcept { return std::exchange(stderr_, -1); }
    int release_pidfd() noexcept { return std::exchange(pidfd_, -1); }

    // Sends sig to the whole process group; nothing once reaped.
    void signal_group(int sig) noexcept;
    // Call once the pidfd is readable (the leader exited): SIGKILLs what is left of the group,
    // reaps the leader and returns its wait status. Idempotent.
    int reap() noexcept;
    bool reaped() const noexcept { return reaped_; }

private:
    exec_process() = default;
    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    int stderr_ = -1;
    int pidfd_ = -1;
    bool reaped_ = false;
    int status_ = 0;
};

// Describes a wait status for people: "exit code 3", "killed by signal 9 (SIGKILL)".
std::string describe_wait_status(int status);

// True when `program` names an executable file, directly or through PATH (path_env). The check
// `worker --exec` does at start-up.
bool is_executable(const std::string& program, const std::string& path_env);

}  // namespace rpcnetd::app::worker
