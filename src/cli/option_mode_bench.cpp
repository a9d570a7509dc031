// The bench mode's flags and finishing checks.
#include "cli/flag_parsers.hpp"
#include "cli/option_groups.hpp"
#include "common/error.hpp"

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace rpcnetd::cli {

void option_groups::bench_flags(po::options_description& all) {
    po::options_description d("Bench options", 100);
    d.add_options()("target", po::value(&target_)->default_value(default_worker), "worker H:P")(
        "mode", po::value(&bench_mode_)->default_value("unary"),
        "unary|stream|connect|idle (against a worker) | assign (against a director: "
        "Director.Assign + Director.Release round trips, --concurrency callers)")(
        "concurrency", po::value(&concurrency_)->default_value(1), "outstanding unary calls")(
        "payload", po::value(&payload_)->default_value(64), "unary payload bytes")(
        "duration", po::value(&duration_)->default_value("5s"), "measured window")(
        "warmup", po::value(&warmup_)->default_value("1s"), "unmeasured warm-up")(
        "streams", po::value(&streams_)->default_value(1), "concurrent streams")(
        "count", po::value(&count_)->default_value(512000), "tokens per stream")(
        "warmup-count", po::value(&warmup_count_)->default_value(20000),
        "warm-up tokens")("iters", po::value(&iters_)->default_value(200), "connect iterations")(
        "warmup-iters", po::value(&warmup_iters_)->default_value(20), "connect warm-up")(
        "channels", po::value(&channels_)->default_value(1), "idle mode connections")(
        "server-pid", po::value(&server_pid_)->default_value(0),
        "server PID for CPU and RSS readings")("output", po::value(&output_)->default_value("text"),
                                               "text|json|result");
    all.add(d);
}

command option_groups::finish_bench(const po::variables_map& vm) {
    bench_config c;
    c.common = finish_common(vm);
    c.target = parse_endpoint_flag("target", target_);
    c.mode = pick<bench_mode>("mode", bench_mode_,
                              {{"unary", bench_mode::unary},
                               {"stream", bench_mode::stream},
                               {"connect", bench_mode::connect},
                               {"idle", bench_mode::idle},
                               {"assign", bench_mode::assign}});
    require_positive("concurrency", concurrency_);
    c.concurrency = concurrency_;
    c.payload = payload_;
    c.duration = parse_duration_flag("duration", duration_);
    c.warmup = parse_duration_flag("warmup", warmup_);
    require_positive("streams", streams_);
    c.streams = streams_;
    c.count = count_;
    c.warmup_count = warmup_count_;
    c.iters = iters_;
    c.warmup_iters = warmup_iters_;
    require_positive("channels", channels_);
    c.channels = channels_;
    c.server_pid = server_pid_;
    c.output = pick<bench_output>("output", output_,
                                  {{"text", bench_output::text},
                                   {"json", bench_output::json},
                                   {"result", bench_output::result}});
    return c;
}

}  // namespace rpcnetd::cli
