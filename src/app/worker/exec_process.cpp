#include "app/worker/exec_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rpcnetd::app::worker {
namespace {

struct fd_pair {
    int read = -1;
    int write = -1;
};

void close_fd(int& fd) noexcept {
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
}

fd_pair make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::generic_category(), "pipe2");
    }
    return {fds[0], fds[1]};
}

// Closes the pipes on every exit path of spawn().
struct pipe_set {
    fd_pair in, out, err;
    ~pipe_set() {
        for (auto* p : {&in, &out, &err}) {
            close_fd(p->read);
            close_fd(p->write);
        }
    }
};

struct spawn_attrs {
    posix_spawnattr_t attr{};
    posix_spawn_file_actions_t actions{};
    spawn_attrs() {
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_init(&actions);
    }
    ~spawn_attrs() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    spawn_attrs(const spawn_attrs&) = delete;
    spawn_attrs& operator=(const spawn_attrs&) = delete;
};

void set_nonblocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        throw std::system_error(errno, std::generic_category(), "fcntl");
    }
}

}  // namespace

exec_process exec_process::spawn(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env) {
    if (argv.empty()) {
        throw std::system_error(EINVAL, std::generic_category(), "empty command");
    }
    pipe_set p;
    p.in = make_pipe();
    p.out = make_pipe();
    p.err = make_pipe();

    spawn_attrs a;
    // Own process group (pgid = the child's pid), default dispositions for the signals the
    // worker ignores or handles (SIG_IGN would otherwise survive exec), nothing blocked.
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
        sigaddset(&defaults, sig);
    }
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setpgroup(&a.attr, 0);
    posix_spawnattr_setsigdefault(&a.attr, &defaults);
    posix_spawnattr_setsigmask(&a.attr, &none);
    posix_spawnattr_setflags(&a.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                          POSIX_SPAWN_SETSIGMASK);
    posix_spawn_file_actions_adddup2(&a.actions, p.in.read, 0);
    posix_spawn_file_actions_adddup2(&a.actions, p.out.write, 1);
    posix_spawn_file_actions_adddup2(&a.actions, p.err.write, 2);
    // Sockets and files of the worker never reach the program.
    posix_spawn_file_actions_addclosefrom_np(&a.actions, 3);

    std::vector<char*> cargv;
    for (const auto& s : argv) {
        cargv.push_back(const_cast<char*>(s.c_str()));
    }
    cargv.push_back(nullptr);
    std::vector<char*> cenv;
    for (const auto& s : env) {
        cenv.push_back(const_cast<char*>(s.c_str()));
    }
    cenv.push_back(nullptr);

    // posix_spawnp searches the PATH of the *worker*; the job's PATH is the same value unless
    // the worker had none (then both use the default search path).
    pid_t pid = -1;
    const int rc =
        argv.front().find('/') == std::string::npos
            ? ::posix_spawnp(&pid, cargv[0], &a.actions, &a.attr, cargv.data(), cenv.data())
            : ::posix_spawn(&pid, cargv[0], &a.actions, &a.attr, cargv.data(), cenv.data());
    if (rc != 0) {
        throw std::system_error(rc, std::generic_category(), "cannot start " + argv.front());
    }
    exec_process proc;
    proc.pid_ = pid;
    // From here on the destructor kills and reaps the child whatever fails next.
    // Through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C" for C++.
    proc.pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U));
    if (proc.pidfd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "pidfd_open");
    }
    proc.stdin_ = std::exchange(p.in.write, -1);
    proc.stdout_ = std::exchange(p.out.read, -1);
    proc.stderr_ = std::exchange(p.err.read, -1);
    set_nonblocking(proc.stdin_);
    set_nonblocking(proc.stdout_);
    set_nonblocking(proc.stderr_);
    return proc;
}

exec_process::exec_process(exec_process&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), stdin_(std::exchange(o.stdin_, -1)),
      stdout_(std::exchange(o.stdout_, -1)), stderr_(std::exchange(o.stderr_, -1)),
      pidfd_(std::exchange(o.pidfd_, -1)), reaped_(std::exchange(o.reaped_, true)),
      status_(o.status_) {}

exec_process::~exec_process() {
    if (pid_ > 0 && !reaped_) {
        // Last resort (the worker is stopping or setup failed): SIGKILL cannot be caught, so
        // this blocking wait is short.
        ::kill(-pid_, SIGKILL);
        int st = 0;
        while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
        }
    }
    for (int* fd : {&stdin_, &stdout_, &stderr_, &pidfd_}) {
        close_fd(*fd);
    }
}

void exec_process::signal_group(int sig) noexcept {
    if (pid_ > 0 && !reaped_) {
        // The leader is not reaped yet, so the pgid cannot belong to anyone else.
        ::kill(-pid_, sig);
    }
}

int exec_process::reap() noexcept {
    if (reaped_ || pid_ <= 0) {
        return status_;
    }
    // Children the program left behind die with it: a finished job leaves no process.
    ::kill(-pid_, SIGKILL);
    int st = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &st, 0);
    } while (r < 0 && errno == EINTR);
    reaped_ = true;
    status_ = st;
    return st;
}

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) {
        return "exit code " + std::to_string(WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* name = sigabbrev_np(sig);
        return "killed by signal " + std::to_string(sig) +
               (name != nullptr ? std::string(" (SIG") + name + ")" : std::string());
    }
    return "ended with wait status " + std::to_string(status);
}

bool is_executable(const std::string& program, const std::string& path_env) {
    const auto ok = [](const std::string& p) {
        struct stat st {};
        return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
    };
    if (program.find('/') != std::string::npos) {
        return ok(program);
    }
    std::size_t start = 0;
    while (start <= path_env.size()) {
        auto end = path_env.find(':', start);
        if (end == std::string::npos) {
            end = path_env.size();
        }
        const std::string dir = end == start ? "." : path_env.substr(start, end - start);
        if (ok(dir + "/" + program)) {
            return true;
        }
        start = end + 1;
    }
    return false;
}

}  // namespace rpcnetd::app::worker
