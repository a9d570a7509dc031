#pragma once
// Real rpcnetd processes for integration tests: started with fork/exec, output captured to a file,
// killed by PID (never by name), always reaped. Every wait is bounded.
#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace rpcnetd::test {

// Path of the rpcnetd binary under test and of the source tree (certs/ lives there).
std::string rpcnetd_binary();
std::string source_dir();

// A free loopback port for both TCP and UDP (bound to port 0 then released).
unsigned short free_port();

class child_process {
public:
    // Starts argv[0] with argv, stdout+stderr to a temporary log file; extra_env is "K=V".
    child_process(std::vector<std::string> argv, std::vector<std::string> extra_env = {});
    ~child_process();  // SIGKILL + reap if still running
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int sig);
    // Waits for exit up to `limit`; returns the exit status (128+signal when killed) or nullopt.
    std::optional<int> wait_exit(std::chrono::milliseconds limit);
    bool running();
    std::string output() const;  // what the process printed so far
    const std::string& log_path() const { return log_path_; }
    // Polls the output until it contains `needle` or `limit` passes.
    bool wait_for_output(const std::string& needle, std::chrono::milliseconds limit) const;

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::string log_path_;
};

// Runs a command to completion (bounded), returning exit code and combined output.
struct run_result {
    int exit_code = -1;
    std::string output;
};
run_result run_command(std::vector<std::string> argv, std::chrono::milliseconds limit,
                       std::vector<std::string> extra_env = {});

// The whole content of a file (empty when it cannot be read).
std::string read_file(const std::string& path);

}  // namespace rpcnetd::test
