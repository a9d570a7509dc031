#include "cli/option_groups.hpp"

#include "cli/flag_parsers.hpp"
#include "common/error.hpp"

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace rpcnetd::cli {
namespace {

constexpr const char* default_director = "127.0.0.1:61000";
constexpr const char* default_worker = "127.0.0.1:62001";

}  // namespace

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
    d.add_options()("help,h", "print this help")(
        "config", po::value(&config_file_)->default_value(""),
        "settings file: key = value lines under [common] and [MODE]; relative paths in it are "
        "relative to its folder; flags and environment win over it")(
        "print-config", po::bool_switch(&print_config_),
        "print the effective configuration in the --config format and exit")(
        "cert", po::value(&cert_)->default_value(default_cert_file), "TLS certificate (PEM)")(
        "key", po::value(&key_)->default_value(default_key_file), "TLS private key (PEM)")(
        "ca", po::value(&ca_)->default_value(""), "CA bundle to verify peers (default: --cert)")(
        "require-client-cert", po::bool_switch(&require_client_cert_),
        "servers demand a client certificate signed by --ca (mTLS); its OU is the caller's "
        "role (director|worker|client), checked per method")(
        "gossip-key", po::value(&gossip_key_)->default_value(""),
        "file with a base64 32-byte key: AES-256-GCM seals every gossip datagram")(
        "cluster", po::value(&cluster_)->default_value("rpcnetd"),
        "cluster name (authenticated with the gossip key; other clusters never merge)")(
        "log-level", po::value(&log_level_)->default_value(log_level_default()),
        "trace|debug|info|warn|error|off (env RPCNET_LOG, else RUST_LOG)")(
        "log-format", po::value(&log_format_)->default_value("text"), "text|json");
    return d;
}

po::options_description option_groups::swim_group() {
    po::options_description d("Membership (SWIM + Lifeguard) options", 100);
    d.add_options()("probe-interval", po::value(&probe_interval_)->default_value("200ms"),
                    "one probe per period")("probe-timeout",
                                            po::value(&probe_timeout_)->default_value("100ms"),
                                            "direct ack wait before indirect probes")(
        "indirect-probes", po::value(&indirect_probes_)->default_value(3),
        "members asked to probe on our behalf")(
        "suspicion-mult", po::value(&suspicion_mult_)->default_value(2),
        "minimum suspicion timeout = mult * log10(N) * probe interval (at least 4 periods)")(
        "suspicion-max-mult", po::value(&suspicion_max_mult_)->default_value(6),
        "maximum suspicion timeout = this * minimum (shrinks with confirmations)")(
        "awareness-max", po::value(&awareness_max_)->default_value(8),
        "cap of the local health multiplier")(
        "retransmit-mult", po::value(&retransmit_mult_)->default_value(4),
        "each update is piggybacked mult * ceil(log10(N+1)) times")(
        "gossip-fanout", po::value(&gossip_fanout_)->default_value(3),
        "members gossiped to per gossip interval")(
        "gossip-interval", po::value(&gossip_interval_)->default_value("50ms"), "gossip period")(
        "push-pull-interval", po::value(&push_pull_interval_)->default_value("15s"),
        "full state exchange period (anti-entropy)")(
        "reconnect-interval", po::value(&reconnect_interval_)->default_value("5s"),
        "retry failed members and seeds (heals partitions)")(
        "reap-after", po::value(&reap_after_)->default_value("30s"),
        "failed and left members are forgotten after this")(
        "max-push-pull-members", po::value(&max_push_pull_members_)->default_value(1024),
        "new members one push-pull may add; the rest are dropped and counted")(
        "phi-threshold", po::value(&phi_threshold_)->default_value(8.0, "8"),
        "phi accrual level that triggers an immediate probe")(
        "phi-window", po::value(&phi_window_)->default_value(200),
        "arrival intervals the phi detector remembers per member")(
        "phi-min-std-dev", po::value(&phi_min_std_dev_)->default_value("100ms"),
        "floor of the interval deviation (keeps phi sane for very regular traffic)")(
        "phi-acceptable-pause", po::value(&phi_acceptable_pause_)->default_value("0ms"),
        "silence tolerated on top of the expected interval")(
        "phi-first-heartbeat", po::value(&phi_first_heartbeat_)->default_value("1s"),
        "interval assumed before a member's first samples");
    return d;
}

po::options_description option_groups::rpc_group() {
    po::options_description d("RPC limits", 100);
    d.add_options()("max-frame", po::value(&max_frame_)->default_value(4U * 1024U * 1024U),
                    "largest frame body in bytes (checked before allocating)")(
        "max-streams", po::value(&max_streams_)->default_value(1024),
        "concurrent streams per connection")(
        "max-connections", po::value(&max_connections_)->default_value(4096),
        "concurrent connections (the soft open-file limit is raised to the hard one; a "
        "warning says when they still cannot fit)")(
        "handshake-timeout", po::value(&handshake_timeout_)->default_value("5s"),
        "TCP accept to protocol hello")("idle-timeout",
                                        po::value(&idle_timeout_)->default_value("5m"),
                                        "close a connection with no frames for this long")(
        "keepalive-interval", po::value(&keepalive_interval_)->default_value("10s"),
        "ping an idle connection this often")(
        "max-queued-bytes", po::value(&max_queued_)->default_value(8U * 1024U * 1024U),
        "answers queued for one peer that does not read them before its connection is closed "
        "(at least --max-frame + 12)")(
        "min-ping-interval", po::value(&min_ping_interval_)->default_value("10ms"),
        "a peer's PING sooner than this after its previous one is a strike")(
        "max-ping-strikes", po::value(&max_ping_strikes_)->default_value(100),
        "strikes before the connection is closed with GOAWAY \"too many pings\" (0 = off)")(
        "max-request-bytes-per-connection",
        po::value(&max_request_conn_)->default_value(64U * 1024U * 1024U),
        "request bytes held by one connection's running calls; a call over it ends "
        "RESOURCE_EXHAUSTED (at least --max-frame)")(
        "max-request-bytes", po::value(&max_request_all_)->default_value(256U * 1024U * 1024U),
        "request bytes held by all running calls of the server (at least the per-connection "
        "budget)");
    return d;
}

po::options_description option_groups::member_group(bool is_director) {
    po::options_description d(is_director ? "Director options" : "Worker options", 100);
    if (is_director) {
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
    } else {
        d.add_options()("label",
                        po::value(&label_)->default_value(env_or("WORKER_LABEL", "worker-1")),
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
    }
    d.add_options()("drain-timeout", po::value(&drain_timeout_)->default_value("10s"),
                    "on SIGTERM/SIGINT, let running streams finish this long");
    d.add_options()("http-addr", po::value(&http_addr_)->default_value(""),
                    "serve GET /metrics (Prometheus), /healthz, /readyz, /members over plain "
                    "HTTP on H:P, e.g. 127.0.0.1:9464 (off unless given)");
    return d;
}

std::string option_groups::synopsis(const std::string& mode) const {
    if (mode == "director") {
        return "[--addr H:P] [--name NAME] [--join H:P[,H:P...]] "
               "[--strategy least-connections|round-robin|random|power-of-two|affinity] "
               "[--queue-size N] [--queue-timeout DUR] [--http-addr H:P]";
    }
    if (mode == "worker") {
        return "[--label NAME] [--addr H:P] [--join H:P[,H:P...]] [--tag K=V]... "
               "[--simulate-failures] [--token-interval DUR] [--http-addr H:P] "
               "[--exec 'PROGRAM ARG...' | --exec-shell 'COMMAND'] [--resume replay|continue] "
               "[--max-jobs N] "
               "[--max-token-bytes B] [--job-timeout DUR] [--exec-kill-timeout DUR] "
               "[--exec-framing lines|chunks]";
    }
    if (mode == "client") {
        return "[--director H:P[,H:P...]] [--tokens N] [--prompt TEXT | --prompt-file FILE|-] "
               "[--filter K=V[,K=V...]] [--affinity KEY] [--resume-context-limit BYTES] "
               "[--output text|jsonl|raw]";
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
    if (mode == "drain") {
        return "--target H:P [--handoff]";
    }
    if (mode == "undrain") {
        return "--target H:P";
    }
    if (mode == "keys") {
        return "install|use|remove|list [--director H:P] [--key-file FILE] --gossip-key CURRENT";
    }
    return "--target H:P [--mode unary|stream|connect|idle|assign] [--concurrency C] [--payload B] "
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
            d.add_options()(
                "director", po::value(&director_)->default_value(director),
                "director(s) H:P[,H:P...]: starts at a random one, moves to the next when it "
                "fails (env DIRECTOR_ADDR)")(
                "tokens", po::value(&tokens_)->default_value(0),
                "stop after sequence N and exit 0 (0 = until interrupted)")(
                "prompt", po::value(&prompt_)->default_value("hello"), "prompt sent to the worker")(
                "prompt-file", po::value(&prompt_file_)->default_value(""),
                "read the prompt from FILE ('-' = stdin) instead of --prompt")(
                "resume-context-limit",
                po::value(&resume_context_limit_)->default_value(1024U * 1024U),
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
        } else {
            d.add_options()("director", po::value(&director_)->default_value(director),
                            "director H:P (env DIRECTOR_ADDR)")(
                "output", po::value(&output_)->default_value(mode == "members" ? "table" : "text"),
                mode == "members" ? "table|json" : "text|jsonl");
            if (mode == "events") {
                d.add_options()(
                    "replay", po::value(&replay_)->default_value(10),
                    "first print up to N of the director's recent events (it keeps 256), then "
                    "follow; 0 = only new events");
            }
        }
        all.add(d);
    } else if (mode == "stats") {
        po::options_description d("Stats options", 100);
        d.add_options()(
            "target", po::value(&target_)->default_value(env_or("DIRECTOR_ADDR", default_director)),
            "member (director or worker) H:P (default: env DIRECTOR_ADDR, else the director)")(
            "output", po::value(&output_)->default_value("text"), "text|json");
        all.add(d);
    } else if (mode == "drain" || mode == "undrain") {
        po::options_description d(mode == "drain" ? "Drain options" : "Undrain options", 100);
        d.add_options()("target", po::value(&target_)->default_value(""), "the worker H:P");
        if (mode == "drain") {
            d.add_options()("handoff", po::bool_switch(&handoff_),
                            "end running streams now with WORKER_DRAINING: their clients resume "
                            "on other workers");
        }
        all.add(d);
    } else if (mode == "keys") {
        po::options_description d(
            "Keys options (--gossip-key is the cluster's current primary key: requests are "
            "sealed with it)",
            100);
        d.add_options()("action", po::value(&keys_action_)->default_value(""),
                        "install|use|remove|list (the first word after 'keys')")(
            "director",
            po::value(&director_)->default_value(env_or("DIRECTOR_ADDR", default_director)),
            "director H:P asked for the members (env DIRECTOR_ADDR)")(
            "key-file", po::value(&key_file_)->default_value(""),
            "base64 key to install, use or remove (not needed by list)");
        all.add(d);
    } else if (mode == "bench") {
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
            "warmup-count", po::value(&warmup_count_)->default_value(20000), "warm-up tokens")(
            "iters", po::value(&iters_)->default_value(200), "connect iterations")(
            "warmup-iters", po::value(&warmup_iters_)->default_value(20), "connect warm-up")(
            "channels", po::value(&channels_)->default_value(1),
            "idle mode connections")("server-pid", po::value(&server_pid_)->default_value(0),
                                     "server PID for CPU and RSS readings")(
            "output", po::value(&output_)->default_value("text"), "text|json|result");
        all.add(d);
    } else {
        throw usage_error("unknown mode '" + mode +
                          "' (expected director, worker, client, members, events, keys, drain, "
                          "undrain, bench or stats)");
    }
    all.add(common_group());
    return all;
}

}  // namespace rpcnetd::cli
