#pragma once
// What a program run by `worker --exec` is told about its job (README "Running your own
// program"): a minimal environment plus the RPCNETD_* variables. Pure: no clock, no I/O.
//
// The environment is built from scratch, not inherited, so a job sees the same variables on
// every worker whatever the worker's own shell had: PATH (the worker's, else a Debian default),
// HOME and TMPDIR when the worker has them, LANG=C.UTF-8, then
//   RPCNETD_JOB, RPCNETD_PROMPT (also on stdin; left empty when the prompt is over 64 KiB, which
//   the kernel would refuse as one variable), RPCNETD_RESUME_FROM, RPCNETD_WORKER, RPCNETD_SEED,
//   RPCNETD_RESUME (replay|continue), and with continue RPCNETD_CONTEXT_FILE and
//   RPCNETD_CONTEXT_DROPPED.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rpcnetd::app::worker {

// The largest prompt also passed in RPCNETD_PROMPT (the kernel limits one variable to 128 KiB).
inline constexpr std::size_t max_prompt_in_env = 64 * 1024;

// The job's seed: the first 8 bytes of SHA-256(job) read big-endian. The same on every worker,
// so a program that samples with it makes the same choices after a failover (replay).
std::uint64_t job_seed(std::string_view job);

struct job_description {
    std::string job;
    std::string prompt;
    std::uint64_t resume_from = 1;
    std::string worker;
    bool continue_mode = false;
    std::string context_file;           // continue only
    std::uint64_t context_dropped = 0;  // continue only: bytes of context the client dropped
};

// The worker's own variables the job inherits (PATH, HOME, TMPDIR); nullopt = unset.
struct inherited_environment {
    std::optional<std::string> path;
    std::optional<std::string> home;
    std::optional<std::string> tmpdir;
};

// "NAME=value" strings for execve.
std::vector<std::string> job_environment(const job_description& job,
                                         const inherited_environment& from_worker);

}  // namespace rpcnetd::app::worker
