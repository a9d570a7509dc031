#pragma once
// A child process whose stdout and stderr go through a pipe that a reader thread drains, stamping
// every line with its arrival time (steady clock). The process-level benchmarks measure "kill ->
// next token" and "kill -> NodeFailed printed" from these stamps, so they do not depend on how
// fast anyone polls a log file. rpcnetd flushes every event line (std::endl / client_printer).
//
// Header-only on purpose: every tests/bench/*.cpp is its own executable (CMake glob), and only
// .cpp files are globbed, so shared bench code lives in headers.
//
// Lifetime: the destructor SIGKILLs the child by PID (never by name), reaps it and joins the
// reader. The child also gets PR_SET_PDEATHSIG=SIGKILL, so a crashed benchmark leaves no orphans.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rpcnetd::bench {

using bclock = std::chrono::steady_clock;

struct stamped_line {
    bclock::time_point at;
    std::string text;
};

class piped_process {
public:
    explicit piped_process(std::vector<std::string> argv) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe2 failed");
        }
        // Everything the child needs is prepared before fork: after fork in a threaded program
        // the child may only call async-signal-safe functions until exec.
        std::vector<char*> args;
        for (auto& a : argv) {
            args.push_back(a.data());
        }
        args.push_back(nullptr);
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ < 0) {
            ::close(fds[0]);
            ::close(fds[1]);
            throw std::runtime_error("fork failed");
        }
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) {
                ::_exit(126);
            }
            ::dup2(fds[1], STDOUT_FILENO);
            ::dup2(fds[1], STDERR_FILENO);
            const int devnull = ::open("/dev/null", O_RDONLY);
            ::dup2(devnull, STDIN_FILENO);
            ::setpgid(0, 0);  // a Ctrl-C on the terminal reaches the benchmark, not every member
            ::execv(args[0], args.data());
            static const char msg[] = "exec failed\n";
            [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
            ::_exit(127);
        }
        ::close(fds[1]);
        reader_ = std::thread([this, fd = fds[0]] { read_loop(fd); });
    }

    ~piped_process() {
        kill_and_reap();
        if (reader_.joinable()) {
            reader_.join();
        }
    }
    piped_process(const piped_process&) = delete;
    piped_process& operator=(const piped_process&) = delete;

    pid_t pid() const { return pid_; }

    void signal(int sig) {
        if (!reaped_) {
            ::kill(pid_, sig);
        }
    }

    // SIGKILL by PID, then reap (a killed process is reaped within milliseconds).
    void kill_and_reap() {
        if (reaped_) {
            return;
        }
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        reaped_ = true;
    }

    // True while the child has not exited (reaps it when it has).
    bool running() {
        if (reaped_) {
            return false;
        }
        int st = 0;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
            reaped_ = true;
            exit_status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        return !reaped_;
    }
    std::optional<int> exit_status() const { return exit_status_; }

    std::size_t line_count() const {
        std::lock_guard lock(mu_);
        return lines_.size();
    }

    std::vector<stamped_line> lines_from(std::size_t from) const {
        std::lock_guard lock(mu_);
        if (from >= lines_.size()) {
            return {};
        }
        return {lines_.begin() + static_cast<std::ptrdiff_t>(from), lines_.end()};
    }

    std::optional<stamped_line> last_line_where(auto&& pred) const {
        std::lock_guard lock(mu_);
        for (auto it = lines_.rbegin(); it != lines_.rend(); ++it) {
            if (pred(it->text)) {
                return *it;
            }
        }
        return std::nullopt;
    }

    // First line at index >= from that satisfies pred; waits (condition variable, no spinning)
    // until such a line arrives, the output ends, or the deadline passes. `*index` (optional)
    // receives the line's index.
    std::optional<stamped_line> wait_line(std::size_t from, auto&& pred,
                                          bclock::time_point deadline,
                                          std::size_t* index = nullptr) const {
        std::unique_lock lock(mu_);
        std::size_t i = from;
        for (;;) {
            for (; i < lines_.size(); ++i) {
                if (pred(lines_[i].text)) {
                    if (index != nullptr) {
                        *index = i;
                    }
                    return lines_[i];
                }
            }
            if (eof_ || cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
                if (eof_ || bclock::now() >= deadline) {
                    return std::nullopt;
                }
            }
        }
    }

    std::string all_text() const {
        std::lock_guard lock(mu_);
        std::string out;
        for (const auto& l : lines_) {
            out += l.text;
            out += '\n';
        }
        return out;
    }

private:
    void read_loop(int fd) {
        std::string partial;
        char buf[16384];
        for (;;) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            // One stamp per read: lines flushed one by one arrive in separate reads.
            const auto now = bclock::now();
            partial.append(buf, static_cast<std::size_t>(n));
            std::size_t start = 0;
            std::vector<stamped_line> fresh;
            for (auto nl = partial.find('\n'); nl != std::string::npos;
                 nl = partial.find('\n', start)) {
                fresh.push_back({now, partial.substr(start, nl - start)});
                start = nl + 1;
            }
            partial.erase(0, start);
            if (!fresh.empty()) {
                std::lock_guard lock(mu_);
                for (auto& l : fresh) {
                    lines_.push_back(std::move(l));
                }
                cv_.notify_all();
            }
        }
        ::close(fd);
        std::lock_guard lock(mu_);
        if (!partial.empty()) {
            lines_.push_back({bclock::now(), partial});
        }
        eof_ = true;
        cv_.notify_all();
    }

    pid_t pid_ = -1;
    bool reaped_ = false;
    std::optional<int> exit_status_;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    std::vector<stamped_line> lines_;
    bool eof_ = false;
    std::thread reader_;
};

}  // namespace rpcnetd::bench
