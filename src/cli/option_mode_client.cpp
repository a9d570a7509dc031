// The client mode's flags and finishing checks.
#include "cli/flag_parsers.hpp"
#include "cli/option_groups.hpp"
#include "common/error.hpp"

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace rpcnetd::cli {
namespace {

// A resumed call carries the context in one frame (--max-frame defaults to 4 MiB).
constexpr unsigned long long max_resume_context = 3ULL * 1024ULL * 1024ULL;

}  // namespace

void option_groups::client_flags(po::options_description& all) {
    po::options_description d("Options", 100);
    const std::string director = env_or("DIRECTOR_ADDR", default_director);
    d.add_options()("director", po::value(&director_)->default_value(director),
                    "director(s) H:P[,H:P...]: starts at a random one, moves to the next when it "
                    "fails (env DIRECTOR_ADDR)")(
        "tokens", po::value(&tokens_)->default_value(0),
        "stop after sequence N and exit 0 (0 = until interrupted)")(
        "prompt", po::value(&prompt_)->default_value("hello"),
        "prompt sent to the worker")("prompt-file", po::value(&prompt_file_)->default_value(""),
                                     "read the prompt from FILE ('-' = stdin) instead of --prompt")(
        "resume-context-limit", po::value(&resume_context_limit_)->default_value(1024U * 1024U),
        "bytes of delivered text sent with a resumed call (workers with --resume "
        "continue read it); the oldest bytes are dropped first, at most 3 MiB")(
        "filter", po::value(&filter_)->default_value(""),
        "only workers with these tags K=V[,K=V...]")(
        "output", po::value(&output_)->default_value("text"),
        "text|jsonl|raw (raw: stdout = only the token texts, one per line; "
        "diagnostics on stderr)")(
        "wait-timeout", po::value(&wait_timeout_)->default_value("60s"),
        "give up (exit 1) when no director or worker is found for this long")(
        "stream-idle-timeout", po::value(&stream_idle_timeout_)->default_value("1s"),
        "no frame for this long means the worker failed")(
        "connect-timeout", po::value(&connect_timeout_)->default_value("2s"),
        "TCP + TLS connect deadline")("job", po::value(&job_)->default_value(""),
                                      "job id (default: generated)")(
        "affinity", po::value(&affinity_)->default_value(""),
        "affinity key: with director --strategy affinity the same key goes to the same "
        "worker while its load allows");
    all.add(d);
}

command option_groups::finish_client(const po::variables_map& vm) {
    client_config c;
    c.common = finish_common(vm);
    c.directors = parse_endpoint_list_flag("director", director_);
    c.tokens = tokens_;
    c.prompt = prompt_;
    if (vm.count("prompt-file") && !vm["prompt-file"].defaulted()) {
        if (prompt_file_.empty()) {
            throw usage_error("--prompt-file needs a file name ('-' = stdin)");
        }
        if (!vm["prompt"].defaulted()) {
            throw usage_error("give --prompt or --prompt-file, not both");
        }
        c.prompt_file = prompt_file_;
    }
    if (resume_context_limit_ > max_resume_context) {
        throw usage_error("--resume-context-limit must be at most 3 MiB (" +
                          std::to_string(max_resume_context) +
                          " bytes): it travels in one "
                          "call frame");
    }
    c.resume_context_limit = static_cast<std::size_t>(resume_context_limit_);
    if (!filter_.empty()) {
        parse_tags_flag("filter", filter_, c.filter);
    }
    c.output = pick<client_output>("output", output_,
                                   {{"text", client_output::text},
                                    {"jsonl", client_output::jsonl},
                                    {"raw", client_output::raw}});
    c.wait_timeout = parse_duration_flag("wait-timeout", wait_timeout_);
    c.stream_idle_timeout = parse_duration_flag("stream-idle-timeout", stream_idle_timeout_);
    c.connect_timeout = parse_duration_flag("connect-timeout", connect_timeout_);
    c.job = job_;
    if (affinity_.size() > 1024) {
        throw usage_error("--affinity must be at most 1024 bytes");
    }
    c.affinity = affinity_;
    return c;
}

}  // namespace rpcnetd::cli
