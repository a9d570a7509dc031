// The worker mode's flags and finishing checks (--exec included).
#include "cli/flag_parsers.hpp"
#include "cli/option_groups.hpp"
#include "common/error.hpp"
#include "common/tags.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <thread>

namespace po = boost::program_options;

namespace rpcnetd::cli {

void option_groups::worker_flags(po::options_description& all) {
    po::options_description d("Worker options", 100);
    d.add_options()("label", po::value(&label_)->default_value(env_or("WORKER_LABEL", "worker-1")),
                    "worker label and member name (env WORKER_LABEL); unique: if a live member "
                    "holds it, exit 1")(
        "addr", po::value(&addr_)->default_value(env_or("WORKER_ADDR", default_worker)),
        "gossip (UDP) and RPC (TCP) address (env WORKER_ADDR)")(
        "join", po::value(&join_)->default_value(env_or("DIRECTOR_ADDR", default_director)),
        "seeds H:P[,H:P...] (env DIRECTOR_ADDR)")("tag", po::value(&tags_)->composing(),
                                                  "extra tag K=V (repeatable)")(
        "token-interval", po::value(&token_interval_)->default_value("100ms"),
        "pause between streamed tokens")(
        "simulate-failures", po::bool_switch(&simulate_failures_),
        "cycle healthy -> warning -> failed -> recovered (env WORKER_FAILURE_ENABLED=true)")(
        "failure-healthy", po::value(&failure_healthy_)->default_value("10s"),
        "healthy part of the cycle (warning included)")(
        "failure-warning", po::value(&failure_warning_)->default_value("3s"),
        "warning printed this long before failing")(
        "failure-failed", po::value(&failure_failed_)->default_value("5s"),
        "failed (hung) part of the cycle")(
        "exec", po::value(&exec_)->default_value(""),
        "run 'PROGRAM ARG...' for every Worker.Generate (split like a shell would, no shell "
        "run); each stdout line is one token (README \"Running your own program\")")(
        "exec-shell", po::value(&exec_shell_)->default_value(""),
        "like --exec, but run 'COMMAND' with /bin/sh -c")(
        "resume", po::value(&resume_)->default_value("replay"),
        "replay: rerun the program from the start and drop the tokens before "
        "RPCNETD_RESUME_FROM | continue: give it the delivered text in RPCNETD_CONTEXT_FILE; "
        "its first line is token RPCNETD_RESUME_FROM")(
        "max-jobs", po::value(&max_jobs_),
        "programs run at once; a full worker refuses Generate (RESOURCE_EXHAUSTED) and "
        "gossips tag capacity=N (default with --exec: the number of CPUs; 0 = unlimited)")(
        "max-token-bytes", po::value(&max_token_bytes_)->default_value(64U * 1024U),
        "a longer stdout line fails the job (APPLICATION_ERROR)")(
        "job-timeout", po::value(&job_timeout_)->default_value("0s"),
        "a program running longer fails the job (APPLICATION_ERROR); 0 = no limit")(
        "exec-kill-timeout", po::value(&kill_timeout_)->default_value("2s"),
        "SIGTERM to the program's process group, SIGKILL this long after")(
        "exec-framing", po::value(&framing_)->default_value("lines"),
        "lines: one stdout line = one token | chunks: what one read returns = one token "
        "(needs --resume continue)");
    add_member_tail(d);
    all.add(d).add(swim_group()).add(rpc_group());
}

command option_groups::finish_worker(const po::variables_map& vm) {
    worker_config c;
    c.common = finish_common(vm);
    c.member = finish_member(vm, false);
    c.label = label_;
    c.member.tags[std::string(common::role_tag)] = common::worker_role;
    c.member.tags[std::string(common::label_tag)] = label_;
    check_identity(c.member, "--label");
    c.token_interval = parse_duration_flag("token-interval", token_interval_);
    auto env_fail = env_("WORKER_FAILURE_ENABLED");
    c.failures.enabled =
        simulate_failures_ || (env_fail && parse_bool_env("WORKER_FAILURE_ENABLED", *env_fail));
    c.failures.healthy = parse_duration_flag("failure-healthy", failure_healthy_);
    c.failures.warning = parse_duration_flag("failure-warning", failure_warning_);
    c.failures.failed = parse_duration_flag("failure-failed", failure_failed_);
    if (c.failures.warning > c.failures.healthy) {
        throw usage_error("--failure-warning must not exceed --failure-healthy");
    }
    c.exec = finish_exec(vm);
    if (c.exec.max_jobs > 0) {
        c.member.tags[std::string(common::capacity_tag)] = std::to_string(c.exec.max_jobs);
    }
    return c;
}

exec_config option_groups::finish_exec(const po::variables_map& vm) {
    exec_config e;
    if (!exec_.empty() && !exec_shell_.empty()) {
        throw usage_error("give --exec or --exec-shell, not both");
    }
    if (!exec_.empty()) {
        e.argv = po::split_unix(exec_);
        if (e.argv.empty() || e.argv.front().empty()) {
            throw usage_error("--exec needs a program: --exec 'PROGRAM ARG...'");
        }
    } else if (!exec_shell_.empty()) {
        e.argv = {"/bin/sh", "-c", exec_shell_};
    }
    e.resume = pick<exec_resume>(
        "resume", resume_,
        {{"replay", exec_resume::replay}, {"continue", exec_resume::continue_from_context}});
    e.framing =
        pick<exec_framing>("exec-framing", framing_,
                           {{"lines", exec_framing::lines}, {"chunks", exec_framing::chunks}});
    if (e.framing == exec_framing::chunks && e.resume == exec_resume::replay) {
        // Read boundaries differ from run to run, so a replay cannot find sequence N again.
        throw usage_error("--exec-framing chunks needs --resume continue (chunk boundaries are "
                          "not reproducible, so replay could repeat or lose bytes)");
    }
    if (max_token_bytes_ == 0 || max_token_bytes_ > 1024ULL * 1024ULL) {
        throw usage_error("--max-token-bytes must be between 1 and 1048576 (one token travels "
                          "in one frame)");
    }
    e.max_token_bytes = static_cast<std::size_t>(max_token_bytes_);
    e.job_timeout = parse_duration_flag("job-timeout", job_timeout_);
    e.kill_timeout = parse_duration_flag("exec-kill-timeout", kill_timeout_);
    if (vm.count("max-jobs")) {
        e.max_jobs = max_jobs_;
    } else if (e.enabled()) {
        e.max_jobs = std::max(1U, std::thread::hardware_concurrency());
    }
    return e;
}

}  // namespace rpcnetd::cli
