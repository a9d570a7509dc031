// The director mode's flags and finishing checks.
#include "cli/flag_parsers.hpp"
#include "cli/option_groups.hpp"
#include "common/error.hpp"
#include "common/tags.hpp"

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace rpcnetd::cli {

void option_groups::director_flags(po::options_description& all) {
    po::options_description d("Director options", 100);
    d.add_options()("addr",
                    po::value(&addr_)->default_value(env_or("DIRECTOR_ADDR", default_director)),
                    "gossip (UDP) and RPC (TCP) address (env DIRECTOR_ADDR)")(
        "name", po::value(&name_)->default_value("director"),
        "member name; unique: if a live member holds it, exit 1")(
        "join", po::value(&join_)->default_value(""), "other directors to join (optional)")(
        "strategy", po::value(&strategy_)->default_value("least-connections"),
        "least-connections|round-robin|random|power-of-two|affinity")(
        "affinity-epsilon", po::value(&affinity_epsilon_)->default_value(0.25, "0.25"),
        "affinity: a worker takes a key only while it carries at most (1+eps) x the "
        "average load")(
        "queue-size", po::value(&queue_size_)->default_value(128),
        "Assign requests that wait while every matching worker is at capacity "
        "(0 = answer NO_WORKERS at once); beyond it: RESOURCE_EXHAUSTED with a retry-after")(
        "queue-timeout", po::value(&queue_timeout_)->default_value("30s"),
        "longest wait in that queue")(
        "simulate-workers", po::value(&simulate_workers_)->default_value(0),
        "benchmarks only: add N simulated workers to the pool (sim-worker-1..N; never "
        "contacted, so never assign them to real clients)")(
        "health-interval", po::value(&health_interval_)->default_value("100ms"),
        "direct health check of assignable workers")(
        "status-interval", po::value(&status_interval_)->default_value("5s"),
        "print the worker pool this often");
    add_member_tail(d);
    all.add(d).add(swim_group()).add(rpc_group());
}

command option_groups::finish_director(const po::variables_map& vm) {
    director_config c;
    c.common = finish_common(vm);
    c.member = finish_member(vm, true);
    c.member.tags[std::string(common::role_tag)] = common::director_role;
    check_identity(c.member, "--name");
    c.strategy = parse_strategy(strategy_);
    c.health_interval = parse_duration_flag("health-interval", health_interval_);
    c.status_interval = parse_duration_flag("status-interval", status_interval_);
    if (!(affinity_epsilon_ >= 0.0) || affinity_epsilon_ > 1e6) {
        throw usage_error("--affinity-epsilon must be a number >= 0 (0.25 = 25 % above the "
                          "average load)");
    }
    c.affinity_epsilon = affinity_epsilon_;
    c.queue_size = queue_size_;
    if (simulate_workers_ > 100000) {
        throw usage_error("--simulate-workers must be at most 100000");
    }
    c.simulate_workers = simulate_workers_;
    c.queue_timeout = parse_duration_flag("queue-timeout", queue_timeout_);
    require_positive("queue-timeout", static_cast<unsigned long long>(c.queue_timeout.count()));
    return c;
}

}  // namespace rpcnetd::cli
