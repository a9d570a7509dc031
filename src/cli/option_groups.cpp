#include "cli/option_groups.hpp"

#include "cli/flag_parsers.hpp"
#include "common/error.hpp"

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace rpcnetd::cli {
namespace {

constexpr const char* default_director = "127.0.0.1:61000";
constexpr const char* default_worker = "127.0.0.1:62001";

} // namespace

option_groups::option_groups(env_lookup env) : env_(env) {}

std::string option_groups::env_or(const char* name, const std::string& fallback) const {
    auto v = env_(name);
    return v && !v->empty() ? *v : fallback;
}

std::string option_groups::log_level_default() const {
    return env_or("RPCNET_LOG", env_or("RUST_LOG", "info"));
}

po::options_description option_groups::common_group() {
    po::options_description d("Common options", 100);
    d.add_options()
        ("help,h", "print this help")
        ("cert", po::value(&cert_)->default_value("certs/test_cert.pem"), "TLS certificate (PEM)")
        ("key", po::value(&key_)->default_value("certs/test_key.pem"), "TLS private key (PEM)")
        ("ca", po::value(&ca_)->default_value(""), "CA bundle to verify peers (default: --cert)")
        ("require-client-cert", po::bool_switch(&require_client_cert_),
         "servers demand a client certificate signed by --ca (mTLS); its OU is the caller's "
         "role (director|worker|client), checked per method")
        ("gossip-key", po::value(&gossip_key_)->default_value(""),
         "file with a base64 32-byte key: AES-256-GCM seals every gossip datagram")
        ("cluster", po::value(&cluster_)->default_value("rpcnetd"),
         "cluster name (authenticated with the gossip key; other clusters never merge)")
        ("log-level", po::value(&log_level_)->default_value(log_level_default()),
         "trace|debug|info|warn|error|off (env RPCNET_LOG, else RUST_LOG)")
        ("log-format", po::value(&log_format_)->default_value("text"), "text|json");
    return d;
}

po::options_description option_groups::swim_group() {
    po::options_description d("Membership (SWIM + Lifeguard) options", 100);
    d.add_options()
        ("probe-interval", po::value(&probe_interval_)->default_value("200ms"), "one probe per period")
        ("probe-timeout", po::value(&probe_timeout_)->default_value("100ms"),
         "direct ack wait before indirect probes")
        ("indirect-probes", po::value(&indirect_probes_)->default_value(3),
         "members asked to probe on our behalf")
        ("suspicion-mult", po::value(&suspicion_mult_)->default_value(4),
         "minimum suspicion timeout = mult * log10(N) * probe interval (at least 4 periods)")
        ("suspicion-max-mult", po::value(&suspicion_max_mult_)->default_value(6),
         "maximum suspicion timeout = this * minimum (shrinks with confirmations)")
        ("awareness-max", po::value(&awareness_max_)->default_value(8),
         "cap of the local health multiplier")
        ("retransmit-mult", po::value(&retransmit_mult_)->default_value(4),
         "each update is piggybacked mult * ceil(log10(N+1)) times")
        ("gossip-fanout", po::value(&gossip_fanout_)->default_value(3),
         "members gossiped to per gossip interval")
        ("gossip-interval", po::value(&gossip_interval_)->default_value("100ms"), "gossip period")
        ("push-pull-interval", po::value(&push_pull_interval_)->default_value("15s"),
         "full state exchange period (anti-entropy)")
        ("reconnect-interval", po::value(&reconnect_interval_)->default_value("5s"),
         "retry failed members and seeds (heals partitions)")
        ("reap-after", po::value(&reap_after_)->default_value("30s"),
         "failed and left members are forgotten after this")
        ("max-push-pull-members", po::value(&max_push_pull_members_)->default_value(1024),
         "new members one push-pull may add; the rest are dropped and counted")
        ("phi-threshold", po::value(&phi_threshold_)->default_value(8.0, "8"),
         "phi accrual level that triggers an immediate probe")
        ("phi-window", po::value(&phi_window_)->default_value(200),
         "arrival intervals the phi detector remembers per member")
        ("phi-min-std-dev", po::value(&phi_min_std_dev_)->default_value("100ms"),
         "floor of the interval deviation (keeps phi sane for very regular traffic)")
        ("phi-acceptable-pause", po::value(&phi_acceptable_pause_)->default_value("0ms"),
         "silence tolerated on top of the expected interval")
        ("phi-first-heartbeat", po::value(&phi_first_heartbeat_)->default_value("1s"),
         "interval assumed before a member's first samples");
    return d;
}

po::options_description option_groups::rpc_group() {
    po::options_description d("RPC limits", 100);
    d.add_options()
        ("max-frame", po::value(&max_frame_)->default_value(4U * 1024U * 1024U),
         "largest frame body in bytes (checked before allocating)")
        ("max-streams", po::value(&max_streams_)->default_value(1024),
         "concurrent streams per connection")
        ("max-connections", po::value(&max_connections_)->default_value(4096),
         "concurrent connections")
        ("handshake-timeout", po::value(&handshake_timeout_)->default_value("5s"),
         "TCP accept to protocol hello")
        ("idle-timeout", po::value(&idle_timeout_)->default_value("5m"),
         "close a connection with no frames for this long")
        ("keepalive-interval", po::value(&keepalive_interval_)->default_value("10s"),
         "ping an idle connection this often")
        ("max-queued-bytes", po::value(&max_queued_)->default_value(8U * 1024U * 1024U),
         "answers queued for one peer that does not read them before its connection is closed "
         "(at least --max-frame + 12)")
        ("min-ping-interval", po::value(&min_ping_interval_)->default_value("10ms"),
         "a peer's PING sooner than this after its previous one is a strike")
        ("max-ping-strikes", po::value(&max_ping_strikes_)->default_value(100),
         "strikes before the connection is closed with GOAWAY \"too many pings\" (0 = off)")
        ("max-request-bytes-per-connection",
         po::value(&max_request_conn_)->default_value(64U * 1024U * 1024U),
         "request bytes held by one connection's running calls; a call over it ends "
         "RESOURCE_EXHAUSTED (at least --max-frame)")
        ("max-request-bytes", po::value(&max_request_all_)->default_value(256U * 1024U * 1024U),
         "request bytes held by all running calls of the server (at least the per-connection "
         "budget)");
    return d;
}

po::options_description option_groups::member_group(bool is_director) {
    po::options_description d(is_director ? "Director options" : "Worker options", 100);
    if (is_director) {
        d.add_options()
            ("addr", po::value(&addr_)->default_value(env_or("DIRECTOR_ADDR", default_director)),
             "gossip (UDP) and RPC (TCP) address (env DIRECTOR_ADDR)")
            ("name", po::value(&name_)->default_value("director"), "member name")
            ("join", po::value(&join_)->default_value(""), "other directors to join (optional)")
            ("strategy", po::value(&strategy_)->default_value("least-connections"),
             "least-connections|round-robin|random")
            ("health-interval", po::value(&health_interval_)->default_value("100ms"),
             "direct health check of assignable workers")
            ("status-interval", po::value(&status_interval_)->default_value("5s"),
             "print the worker pool this often");
    } else {
        d.add_options()
            ("label", po::value(&label_)->default_value(env_or("WORKER_LABEL", "worker-1")),
             "worker label and member name (env WORKER_LABEL)")
            ("addr", po::value(&addr_)->default_value(env_or("WORKER_ADDR", default_worker)),
             "gossip (UDP) and RPC (TCP) address (env WORKER_ADDR)")
            ("join", po::value(&join_)->default_value(env_or("DIRECTOR_ADDR", default_director)),
             "seeds H:P[,H:P...] (env DIRECTOR_ADDR)")
            ("tag", po::value(&tags_)->composing(), "extra tag K=V (repeatable)")
            ("token-interval", po::value(&token_interval_)->default_value("100ms"),
             "pause between streamed tokens")
            ("simulate-failures", po::bool_switch(&simulate_failures_),
             "cycle healthy -> warning -> failed -> recovered (env WORKER_FAILURE_ENABLED=true)")
            ("failure-healthy", po::value(&failure_healthy_)->default_value("10s"),
             "healthy part of the cycle (warning included)")
            ("failure-warning", po::value(&failure_warning_)->default_value("3s"),
             "warning printed this long before failing")
            ("failure-failed", po::value(&failure_failed_)->default_value("5s"),
             "failed (hung) part of the cycle");
    }
    d.add_options()("drain-timeout", po::value(&drain_timeout_)->default_value("10s"),
                    "on SIGTERM/SIGINT, let running streams finish this long");
    return d;
}

std::string option_groups::synopsis(const std::string& mode) const {
    if (mode == "director") {
        return "[--addr H:P] [--name NAME] [--strategy least-connections|round-robin|random]";
    }
    if (mode == "worker") {
        return "[--label NAME] [--addr H:P] [--join H:P[,H:P...]] [--tag K=V]... "
               "[--simulate-failures] [--token-interval DUR]";
    }
    if (mode == "client") {
        return "[--director H:P[,H:P...]] [--tokens N] [--prompt TEXT] [--filter K=V[,K=V...]] "
               "[--output text|jsonl]";
    }
    if (mode == "members") {
        return "[--director H:P] [--output table|json]";
    }
    if (mode == "events") {
        return "[--director H:P] [--output text|jsonl] [--replay N]";
    }
    if (mode == "stats") {
        return "[--target H:P] [--output text|json]";
    }
    if (mode == "keys") {
        return "install|use|remove|list [--director H:P] [--key-file FILE] --gossip-key CURRENT";
    }
    return "--target H:P [--mode unary|stream|connect|idle] [--concurrency C] [--payload B] "
           "[--duration DUR] [--streams S] [--count M] [--output text|json|result]";
}

po::options_description option_groups::for_mode(const std::string& mode) {
    po::options_description all;
    if (mode == "director" || mode == "worker") {
        all.add(member_group(mode == "director")).add(swim_group()).add(rpc_group());
    } else if (mode == "client" || mode == "members" || mode == "events") {
        po::options_description d("Options", 100);
        const std::string director = env_or("DIRECTOR_ADDR", default_director);
        if (mode == "client") {
            d.add_options()
                ("director", po::value(&director_)->default_value(director),
                 "director(s) H:P[,H:P...], tried in turn (env DIRECTOR_ADDR)")
                ("tokens", po::value(&tokens_)->default_value(0),
                 "stop after sequence N and exit 0 (0 = until interrupted)")
                ("prompt", po::value(&prompt_)->default_value("hello"), "prompt sent to the worker")
                ("filter", po::value(&filter_)->default_value(""),
                 "only workers with these tags K=V[,K=V...]")
                ("output", po::value(&output_)->default_value("text"), "text|jsonl")
                ("wait-timeout", po::value(&wait_timeout_)->default_value("60s"),
                 "give up (exit 1) when no director or worker is found for this long")
                ("stream-idle-timeout", po::value(&stream_idle_timeout_)->default_value("1s"),
                 "no frame for this long means the worker failed")
                ("connect-timeout", po::value(&connect_timeout_)->default_value("2s"),
                 "TCP + TLS connect deadline")
                ("job", po::value(&job_)->default_value(""), "job id (default: generated)");
        } else {
            d.add_options()
                ("director", po::value(&director_)->default_value(director),
                 "director H:P (env DIRECTOR_ADDR)")
                ("output", po::value(&output_)->default_value(mode == "members" ? "table" : "text"),
                 mode == "members" ? "table|json" : "text|jsonl");
            if (mode == "events") {
                d.add_options()
                    ("replay", po::value(&replay_)->default_value(10),
                     "first print up to N of the director's recent events (it keeps 256), then "
                     "follow; 0 = only new events");
            }
        }
        all.add(d);
    } else if (mode == "stats") {
        po::options_description d("Stats options", 100);
        d.add_options()
            ("target", po::value(&target_)->default_value(env_or("DIRECTOR_ADDR", default_director)),
             "member (director or worker) H:P (default: env DIRECTOR_ADDR, else the director)")
            ("output", po::value(&output_)->default_value("text"), "text|json");
        all.add(d);
    } else if (mode == "keys") {
        po::options_description d(
            "Keys options (--gossip-key is the cluster's current primary key: requests are "
            "sealed with it)",
            100);
        d.add_options()
            ("action", po::value(&keys_action_)->default_value(""),
             "install|use|remove|list (the first word after 'keys')")
            ("director", po::value(&director_)->default_value(env_or("DIRECTOR_ADDR",
                                                                      default_director)),
             "director H:P asked for the members (env DIRECTOR_ADDR)")
            ("key-file", po::value(&key_file_)->default_value(""),
             "base64 key to install, use or remove (not needed by list)");
        all.add(d);
    } else if (mode == "bench") {
        po::options_description d("Bench options", 100);
        d.add_options()
            ("target", po::value(&target_)->default_value(default_worker), "worker H:P")
            ("mode", po::value(&bench_mode_)->default_value("unary"), "unary|stream|connect|idle")
            ("concurrency", po::value(&concurrency_)->default_value(1), "outstanding unary calls")
            ("payload", po::value(&payload_)->default_value(64), "unary payload bytes")
            ("duration", po::value(&duration_)->default_value("5s"), "measured window")
            ("warmup", po::value(&warmup_)->default_value("1s"), "unmeasured warm-up")
            ("streams", po::value(&streams_)->default_value(1), "concurrent streams")
            ("count", po::value(&count_)->default_value(512000), "tokens per stream")
            ("warmup-count", po::value(&warmup_count_)->default_value(20000), "warm-up tokens")
            ("iters", po::value(&iters_)->default_value(200), "connect iterations")
            ("warmup-iters", po::value(&warmup_iters_)->default_value(20), "connect warm-up")
            ("channels", po::value(&channels_)->default_value(1), "idle mode connections")
            ("server-pid", po::value(&server_pid_)->default_value(0),
             "server PID for CPU and RSS readings")
            ("output", po::value(&output_)->default_value("text"), "text|json|result");
        all.add(d);
    } else {
        throw usage_error("unknown mode '" + mode +
                          "' (expected director, worker, client, members, events, keys, bench "
                          "or stats)");
    }
    all.add(common_group());
    return all;
}

} // namespace rpcnetd::cli
