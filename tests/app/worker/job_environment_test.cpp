#include "app/worker/job_environment.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace rpcnetd::app::worker;

namespace {
bool has(const std::vector<std::string>& env, const std::string& entry) {
    return std::find(env.begin(), env.end(), entry) != env.end();
}
}  // namespace

TEST_CASE("job_environment: seed is SHA-256 of the job, the same everywhere", "[worker]") {
    // SHA-256("abc") = ba7816bf8f01cfea...
    CHECK(job_seed("abc") == 0xba7816bf8f01cfeaULL);
    CHECK(job_seed("job-1") == job_seed("job-1"));
    CHECK(job_seed("job-1") != job_seed("job-2"));
}

TEST_CASE("job_environment: minimal environment plus the RPCNETD variables", "[worker]") {
    job_description d;
    d.job = "abc";
    d.prompt = "hi there";
    d.resume_from = 7;
    d.worker = "worker-a";
    SECTION("replay") {
        const auto env = job_environment(d, {std::string("/bin"), std::nullopt, std::nullopt});
        CHECK(has(env, "PATH=/bin"));
        CHECK(has(env, "LANG=C.UTF-8"));
        CHECK(has(env, "RPCNETD_JOB=abc"));
        CHECK(has(env, "RPCNETD_PROMPT=hi there"));
        CHECK(has(env, "RPCNETD_RESUME_FROM=7"));
        CHECK(has(env, "RPCNETD_WORKER=worker-a"));
        CHECK(has(env, "RPCNETD_SEED=" + std::to_string(0xba7816bf8f01cfeaULL)));
        CHECK(has(env, "RPCNETD_RESUME=replay"));
        CHECK(std::none_of(env.begin(), env.end(), [](const std::string& e) {
            return e.rfind("HOME=", 0) == 0 || e.rfind("RPCNETD_CONTEXT", 0) == 0;
        }));
    }
    SECTION("continue") {
        d.continue_mode = true;
        d.context_file = "/tmp/ctx";
        d.context_dropped = 12;
        const auto env = job_environment(d, {std::nullopt, std::string("/home/u"), std::nullopt});
        CHECK(has(env, "PATH=/usr/local/bin:/usr/bin:/bin"));
        CHECK(has(env, "HOME=/home/u"));
        CHECK(has(env, "RPCNETD_RESUME=continue"));
        CHECK(has(env, "RPCNETD_CONTEXT_FILE=/tmp/ctx"));
        CHECK(has(env, "RPCNETD_CONTEXT_DROPPED=12"));
    }
    SECTION("a prompt too large for one variable is on stdin only") {
        d.prompt.assign(max_prompt_in_env + 1, 'x');
        CHECK(has(job_environment(d, {}), "RPCNETD_PROMPT="));
    }
}
