#include "support/process.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace rpcnetd::test {

std::string rpcnetd_binary() {
    return RPCNETD_BINARY;
}
std::string source_dir() {
    return RPCNETD_SOURCE_DIR;
}

unsigned short free_port() {
    // Try ports until one is free for both TCP and UDP on 127.0.0.1.
    for (int attempt = 0; attempt < 200; ++attempt) {
        int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (::bind(tcp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(tcp);
            continue;
        }
        socklen_t len = sizeof addr;
        ::getsockname(tcp, reinterpret_cast<sockaddr*>(&addr), &len);
        int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
        const bool udp_ok = ::bind(udp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(udp);
        ::close(tcp);
        if (udp_ok) {
            return ntohs(addr.sin_port);
        }
    }
    throw std::runtime_error("no free port");
}

child_process::child_process(std::vector<std::string> argv, std::vector<std::string> extra_env) {
    char tmpl[] = "/tmp/rpcnetd-test-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd < 0) {
        throw std::runtime_error("mkstemp failed");
    }
    log_path_ = tmpl;
    pid_ = ::fork();
    if (pid_ < 0) {
        ::close(fd);
        throw std::runtime_error("fork failed");
    }
    if (pid_ == 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
        const int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, STDIN_FILENO);
        ::setpgid(0, 0);
        for (auto& kv : extra_env) {
            ::putenv(kv.data());
        }
        std::vector<char*> args;
        for (auto& a : argv) {
            args.push_back(a.data());
        }
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        std::fprintf(stderr, "exec %s failed: %s\n", args[0], std::strerror(errno));
        ::_exit(127);
    }
    ::close(fd);
}

child_process::~child_process() {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
    }
    if (!log_path_.empty() && std::getenv("RPCNETD_KEEP_LOGS") == nullptr) {
        ::unlink(log_path_.c_str());
    }
}

void child_process::signal(int sig) {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, sig);
    }
}

bool child_process::running() {
    if (status_) {
        return false;
    }
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return false;
    }
    return true;
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (running()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
}

std::string child_process::output() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool child_process::wait_for_output(const std::string& needle,
                                    std::chrono::milliseconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (output().find(needle) != std::string::npos) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return output().find(needle) != std::string::npos;
}

run_result run_command(std::vector<std::string> argv, std::chrono::milliseconds limit,
                       std::vector<std::string> extra_env) {
    child_process p(std::move(argv), std::move(extra_env));
    auto code = p.wait_exit(limit);
    run_result r;
    r.output = p.output();
    r.exit_code = code ? *code : -1;
    return r;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace rpcnetd::test
