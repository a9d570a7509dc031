#include "app/worker/job_environment.hpp"

#include <openssl/sha.h>

namespace rpcnetd::app::worker {

std::uint64_t job_seed(std::string_view job) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(job.data()), job.size(), digest);
    std::uint64_t seed = 0;
    for (int i = 0; i < 8; ++i) {
        seed = (seed << 8) | digest[i];
    }
    return seed;
}

std::vector<std::string> job_environment(const job_description& job,
                                         const inherited_environment& from_worker) {
    std::vector<std::string> env;
    env.push_back("PATH=" + from_worker.path.value_or("/usr/local/bin:/usr/bin:/bin"));
    if (from_worker.home) {
        env.push_back("HOME=" + *from_worker.home);
    }
    if (from_worker.tmpdir) {
        env.push_back("TMPDIR=" + *from_worker.tmpdir);
    }
    env.emplace_back("LANG=C.UTF-8");
    env.push_back("RPCNETD_JOB=" + job.job);
    env.push_back("RPCNETD_PROMPT=" +
                  (job.prompt.size() <= max_prompt_in_env ? job.prompt : std::string()));
    env.push_back("RPCNETD_RESUME_FROM=" + std::to_string(job.resume_from));
    env.push_back("RPCNETD_WORKER=" + job.worker);
    env.push_back("RPCNETD_SEED=" + std::to_string(job_seed(job.job)));
    env.push_back(std::string("RPCNETD_RESUME=") + (job.continue_mode ? "continue" : "replay"));
    if (job.continue_mode) {
        env.push_back("RPCNETD_CONTEXT_FILE=" + job.context_file);
        env.push_back("RPCNETD_CONTEXT_DROPPED=" + std::to_string(job.context_dropped));
    }
    return env;
}

}  // namespace rpcnetd::app::worker
