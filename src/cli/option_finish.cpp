// option_groups::finish and helpers: raw flag strings -> validated config structs.
#include "cli/flag_parsers.hpp"
#include "cli/option_groups.hpp"
#include "common/error.hpp"
#include "common/log.hpp"
#include "membership/swim_codec.hpp"
#include "rpc/frame.hpp"

#include <boost/program_options.hpp>
#include <boost/program_options/parsers.hpp>

#include <algorithm>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace po = boost::program_options;

namespace rpcnetd::cli {
namespace {

template <typename Enum>
Enum pick(const std::string& flag, const std::string& value,
          std::initializer_list<std::pair<const char*, Enum>> choices) {
    std::string names;
    for (const auto& [name, e] : choices) {
        if (value == name) {
            return e;
        }
        names += names.empty() ? name : std::string(", ") + name;
    }
    throw usage_error("invalid --" + flag + " '" + value + "' (expected " + names + ")");
}

// A resumed call carries the context in one frame (--max-frame defaults to 4 MiB).
constexpr unsigned long long max_resume_context = 3ULL * 1024ULL * 1024ULL;

void require_positive(const char* flag, unsigned long long value) {
    if (value == 0) {
        throw usage_error(std::string("--") + flag + " must be greater than 0");
    }
}

}  // namespace

common_config option_groups::finish_common(const po::variables_map&) {
    common_config c;
    c.tls.cert_file = cert_;
    c.tls.key_file = key_;
    c.tls.ca_file = ca_;
    c.tls.require_client_cert = require_client_cert_;
    c.gossip_key_file = gossip_key_;
    if (cluster_.empty()) {
        throw usage_error("--cluster must not be empty");
    }
    c.cluster = cluster_;
    (void)common::parse_log_level(log_level_);  // validate now: bad levels are usage errors
    c.log_level = log_level_;
    c.log_format = pick<common::log_format>(
        "log-format", log_format_,
        {{"text", common::log_format::text}, {"json", common::log_format::json}});
    return c;
}

namespace {

// What gossip carries about a member (its name and tags) must pass the codec's rules
// (wire::well_formed_text, wire::max_tags); named here flag by flag. Whether they fit one gossip
// datagram together is checked when gossip starts (swim_service), where the envelope is known.
void check_identity(const member_config& m, const std::string& name_flag) {
    const auto check = [&](const std::string& what, const std::string& text) {
        if (!membership::wire::well_formed_text(text)) {
            throw usage_error(what + " must be UTF-8 of at most " +
                              std::to_string(membership::wire::max_text) + " bytes");
        }
    };
    check(name_flag, m.name);
    for (const auto& [k, v] : m.tags) {
        check("tag key '" + k + "'", k);
        check("tag value of '" + k + "'", v);
    }
    if (m.tags.size() > membership::wire::max_tags) {
        throw usage_error("at most " + std::to_string(membership::wire::max_tags) +
                          " tags (including role and label)");
    }
}

}  // namespace

member_config option_groups::finish_member(const po::variables_map&, bool is_director) {
    member_config m;
    m.addr = parse_endpoint_flag("addr", addr_);
    m.name = is_director ? name_ : label_;
    if (m.name.empty()) {
        throw usage_error(is_director ? "--name must not be empty" : "--label must not be empty");
    }
    if (!join_.empty()) {
        m.join = parse_endpoint_list_flag("join", join_);
    }
    for (const auto& t : tags_) {
        parse_tags_flag("tag", t, m.tags);
    }
    m.drain_timeout = parse_duration_flag("drain-timeout", drain_timeout_);
    if (!http_addr_.empty()) {
        m.http_addr = parse_endpoint_flag("http-addr", http_addr_);
        in6_addr scratch{};
        const auto& host = m.http_addr->host;
        if (host != "localhost" && ::inet_pton(AF_INET, host.c_str(), &scratch) != 1 &&
            ::inet_pton(AF_INET6, host.c_str(), &scratch) != 1) {
            throw usage_error("--http-addr must be an IP address or localhost (it is bound, not "
                              "resolved): '" +
                              http_addr_ + "'");
        }
    }

    auto& s = m.swim;
    s.probe_interval = parse_duration_flag("probe-interval", probe_interval_);
    s.probe_timeout = parse_duration_flag("probe-timeout", probe_timeout_);
    s.gossip_interval = parse_duration_flag("gossip-interval", gossip_interval_);
    s.push_pull_interval = parse_duration_flag("push-pull-interval", push_pull_interval_);
    s.reconnect_interval = parse_duration_flag("reconnect-interval", reconnect_interval_);
    s.reap_after = parse_duration_flag("reap-after", reap_after_);
    require_positive("max-push-pull-members", max_push_pull_members_);
    s.max_push_pull_members = max_push_pull_members_;
    require_positive("probe-interval", static_cast<unsigned long long>(s.probe_interval.count()));
    require_positive("probe-timeout", static_cast<unsigned long long>(s.probe_timeout.count()));
    require_positive("gossip-interval", static_cast<unsigned long long>(s.gossip_interval.count()));
    if (s.probe_timeout >= s.probe_interval) {
        throw usage_error("--probe-timeout must be shorter than --probe-interval");
    }
    s.indirect_probes = indirect_probes_;
    require_positive("suspicion-mult", suspicion_mult_);
    s.suspicion_mult = suspicion_mult_;
    require_positive("suspicion-max-mult", suspicion_max_mult_);
    s.suspicion_max_mult = suspicion_max_mult_;
    require_positive("awareness-max", awareness_max_);
    s.awareness_max = awareness_max_;
    require_positive("retransmit-mult", retransmit_mult_);
    s.retransmit_mult = retransmit_mult_;
    require_positive("gossip-fanout", gossip_fanout_);
    s.gossip_fanout = gossip_fanout_;
    if (!(phi_threshold_ > 0.0)) {
        throw usage_error("--phi-threshold must be greater than 0");
    }
    s.phi_threshold = phi_threshold_;
    require_positive("phi-window", phi_window_);
    s.phi_max_samples = phi_window_;
    s.phi_min_std_deviation = parse_duration_flag("phi-min-std-dev", phi_min_std_dev_);
    require_positive("phi-min-std-dev",
                     static_cast<unsigned long long>(s.phi_min_std_deviation.count()));
    s.phi_acceptable_pause = parse_duration_flag("phi-acceptable-pause", phi_acceptable_pause_);
    s.phi_first_heartbeat = parse_duration_flag("phi-first-heartbeat", phi_first_heartbeat_);
    require_positive("phi-first-heartbeat",
                     static_cast<unsigned long long>(s.phi_first_heartbeat.count()));

    auto& l = m.limits;
    if (max_frame_ < 1024) {
        throw usage_error("--max-frame must be at least 1024 bytes");
    }
    l.max_frame = max_frame_;
    require_positive("max-streams", max_streams_);
    l.max_streams_per_connection = max_streams_;
    require_positive("max-connections", max_connections_);
    l.max_connections = max_connections_;
    l.handshake_timeout = parse_duration_flag("handshake-timeout", handshake_timeout_);
    l.idle_timeout = parse_duration_flag("idle-timeout", idle_timeout_);
    l.keepalive_interval = parse_duration_flag("keepalive-interval", keepalive_interval_);
    // One full frame must always fit, or a legitimate large answer would close its connection.
    if (max_queued_ < max_frame_ + rpc::frame_header_size) {
        throw usage_error("--max-queued-bytes must be at least --max-frame + " +
                          std::to_string(rpc::frame_header_size) + " (" +
                          std::to_string(max_frame_ + rpc::frame_header_size) + ")");
    }
    l.max_queued_bytes = max_queued_;
    l.min_ping_interval = parse_duration_flag("min-ping-interval", min_ping_interval_);
    l.max_ping_strikes = max_ping_strikes_;
    // One call of the largest frame must fit, or such calls would always be refused.
    if (max_request_conn_ < max_frame_) {
        throw usage_error("--max-request-bytes-per-connection must be at least --max-frame (" +
                          std::to_string(max_frame_) + ")");
    }
    if (max_request_all_ < max_request_conn_) {
        throw usage_error("--max-request-bytes must be at least "
                          "--max-request-bytes-per-connection (" +
                          std::to_string(max_request_conn_) + ")");
    }
    l.max_request_bytes_per_connection = max_request_conn_;
    l.max_request_bytes = max_request_all_;
    return m;
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

command option_groups::finish(const std::string& mode, const po::variables_map& vm) {
    if (mode == "director") {
        director_config c;
        c.common = finish_common(vm);
        c.member = finish_member(vm, true);
        c.member.tags["role"] = "director";
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
    if (mode == "worker") {
        worker_config c;
        c.common = finish_common(vm);
        c.member = finish_member(vm, false);
        c.label = label_;
        c.member.tags["role"] = "worker";
        c.member.tags["label"] = label_;
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
            c.member.tags["capacity"] = std::to_string(c.exec.max_jobs);
        }
        return c;
    }
    if (mode == "client") {
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
    if (mode == "members") {
        members_config c;
        c.common = finish_common(vm);
        c.director = parse_endpoint_flag("director", director_);
        c.output = pick<table_output>(
            "output", output_, {{"table", table_output::table}, {"json", table_output::json}});
        return c;
    }
    if (mode == "stats") {
        stats_config c;
        c.common = finish_common(vm);
        c.target = parse_endpoint_flag("target", target_);
        c.output = pick<stats_output>("output", output_,
                                      {{"text", stats_output::text}, {"json", stats_output::json}});
        return c;
    }
    if (mode == "events") {
        events_config c;
        c.common = finish_common(vm);
        c.director = parse_endpoint_flag("director", director_);
        c.output = pick<client_output>(
            "output", output_, {{"text", client_output::text}, {"jsonl", client_output::jsonl}});
        c.replay = replay_;
        return c;
    }
    if (mode == "drain" || mode == "undrain") {
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
    if (mode == "keys") {
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
