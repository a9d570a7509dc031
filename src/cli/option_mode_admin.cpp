// The operator modes' flags and finishing checks: members, events, stats, drain, undrain, keys.
#include "cli/flag_parsers.hpp"
#include "cli/option_groups.hpp"
#include "common/error.hpp"

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace rpcnetd::cli {

// The flags of the director's views (members, events): which director, which output.
po::options_description option_groups::director_view_flags(const char* output,
                                                           const char* output_help) {
    po::options_description d("Options", 100);
    d.add_options()("director",
                    po::value(&director_)->default_value(env_or("DIRECTOR_ADDR", default_director)),
                    "director H:P (env DIRECTOR_ADDR)")(
        "output", po::value(&output_)->default_value(output), output_help);
    return d;
}

void option_groups::members_flags(po::options_description& all) {
    all.add(director_view_flags("table", "table|json"));
}

command option_groups::finish_members(const po::variables_map& vm) {
    members_config c;
    c.common = finish_common(vm);
    c.director = parse_endpoint_flag("director", director_);
    c.output = pick<table_output>("output", output_,
                                  {{"table", table_output::table}, {"json", table_output::json}});
    return c;
}

void option_groups::events_flags(po::options_description& all) {
    auto d = director_view_flags("text", "text|jsonl");
    d.add_options()("replay", po::value(&replay_)->default_value(10),
                    "first print up to N of the director's recent events (it keeps 256), then "
                    "follow; 0 = only new events");
    all.add(d);
}

command option_groups::finish_events(const po::variables_map& vm) {
    events_config c;
    c.common = finish_common(vm);
    c.director = parse_endpoint_flag("director", director_);
    c.output = pick<client_output>(
        "output", output_, {{"text", client_output::text}, {"jsonl", client_output::jsonl}});
    c.replay = replay_;
    return c;
}

void option_groups::stats_flags(po::options_description& all) {
    po::options_description d("Stats options", 100);
    d.add_options()(
        "target", po::value(&target_)->default_value(env_or("DIRECTOR_ADDR", default_director)),
        "member (director or worker) H:P (default: env DIRECTOR_ADDR, else the director)")(
        "output", po::value(&output_)->default_value("text"), "text|json");
    all.add(d);
}

command option_groups::finish_stats(const po::variables_map& vm) {
    stats_config c;
    c.common = finish_common(vm);
    c.target = parse_endpoint_flag("target", target_);
    c.output = pick<stats_output>("output", output_,
                                  {{"text", stats_output::text}, {"json", stats_output::json}});
    return c;
}

void option_groups::drain_flags(po::options_description& all) {
    po::options_description d("Drain options", 100);
    d.add_options()("target", po::value(&target_)->default_value(""), "the worker H:P");
    d.add_options()("handoff", po::bool_switch(&handoff_),
                    "end running streams now with WORKER_DRAINING: their clients resume "
                    "on other workers");
    all.add(d);
}

void option_groups::undrain_flags(po::options_description& all) {
    po::options_description d("Undrain options", 100);
    d.add_options()("target", po::value(&target_)->default_value(""), "the worker H:P");
    all.add(d);
}

command option_groups::finish_drain(const po::variables_map& vm) {
    return finish_drain_or_undrain(vm, true);
}

command option_groups::finish_undrain(const po::variables_map& vm) {
    return finish_drain_or_undrain(vm, false);
}

command option_groups::finish_drain_or_undrain(const po::variables_map& vm, bool drain) {
    const std::string mode = drain ? "drain" : "undrain";
    drain_config c;
    c.common = finish_common(vm);
    if (target_.empty()) {
        throw usage_error(mode + " needs --target H:P (the worker)");
    }
    c.target = parse_endpoint_flag("target", target_);
    c.drain = mode == "drain";
    c.handoff = c.drain && handoff_;
    return c;
}

void option_groups::keys_flags(po::options_description& all) {
    po::options_description d(
        "Keys options (--gossip-key is the cluster's current primary key: requests are "
        "sealed with it)",
        100);
    d.add_options()("action", po::value(&keys_action_)->default_value(""),
                    "install|use|remove|list (the first word after 'keys')")(
        "director", po::value(&director_)->default_value(env_or("DIRECTOR_ADDR", default_director)),
        "director H:P asked for the members (env DIRECTOR_ADDR)")(
        "key-file", po::value(&key_file_)->default_value(""),
        "base64 key to install, use or remove (not needed by list)");
    all.add(d);
}

command option_groups::finish_keys(const po::variables_map& vm) {
    keys_config c;
    c.common = finish_common(vm);
    if (keys_action_.empty()) {
        throw usage_error("keys needs an action: install, use, remove or list");
    }
    c.action = pick<keys_action>("action", keys_action_,
                                 {{"install", keys_action::install},
                                  {"use", keys_action::use},
                                  {"remove", keys_action::remove},
                                  {"list", keys_action::list}});
    c.director = parse_endpoint_flag("director", director_);
    c.key_file = key_file_;
    if (c.action != keys_action::list && c.key_file.empty()) {
        throw usage_error("keys " + keys_action_ + " needs --key-file FILE");
    }
    if (c.common.gossip_key_file.empty()) {
        throw usage_error("keys needs --gossip-key FILE: the cluster's current primary key "
                          "(requests are sealed with it)");
    }
    return c;
}

}  // namespace rpcnetd::cli
