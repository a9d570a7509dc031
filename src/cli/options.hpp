#pragma once
// Command-line contract (DESIGN.md §5): Program_options -> validated config structs, one per mode.
// parse_command_line throws usage_error with a one-line reason on bad input (exit 2).
#include "common/endpoint.hpp"
#include "common/log.hpp"
#include "common/tags.hpp"
#include "membership/swim_config.hpp"
#include "rpc/rpc_config.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace rpcnetd::cli {

using common::tag_map;

// The development pair of the source tree (certs/); relative, so only found from its top folder.
inline constexpr const char* default_cert_file = "certs/test_cert.pem";
inline constexpr const char* default_key_file = "certs/test_key.pem";

// Flags every mode accepts.
struct common_config {
    rpc::tls_config tls;
    std::string gossip_key_file;      // empty = unauthenticated gossip (a warning is logged)
    std::string cluster = "rpcnetd";  // AEAD associated data; clusters with other names never merge
    std::string log_level = "info";
    common::log_format log_format = common::log_format::text;
};

enum class balance_strategy { least_connections, round_robin, random, power_of_two, affinity };

// A member (director or worker) runs gossip on UDP addr and RPC on TCP addr.
struct member_config {
    common::endpoint addr;
    std::string name;
    std::vector<common::endpoint> join;  // seeds
    tag_map tags;
    membership::swim_config swim;
    rpc::limits limits;
    std::chrono::milliseconds drain_timeout{10000};  // graceful leave: wait for running streams
    std::optional<common::endpoint> http_addr;  // --http-addr: /metrics /healthz /readyz /members
};

struct director_config {
    common_config common;
    member_config member;
    balance_strategy strategy = balance_strategy::least_connections;
    std::chrono::milliseconds health_interval{100};   // direct health check of assignable workers
    std::chrono::milliseconds status_interval{5000};  // pool print period
    double affinity_epsilon = 0.25;  // --strategy affinity: load bound (1+eps) x average
    // Admission control: Assign requests wait here while every matching worker is full.
    std::uint32_t queue_size = 128;  // 0 = no queue (NO_WORKERS at once, as before)
    std::chrono::milliseconds queue_timeout{30000};
    std::uint32_t simulate_workers =
        0;  // benchmarks: simulated workers in the pool (never contacted)
};

struct failure_cycle_config {
    bool enabled = false;
    std::chrono::milliseconds healthy{10000};
    std::chrono::milliseconds warning{3000};  // warning printed this long before failing
    std::chrono::milliseconds failed{5000};
};

// worker --exec / --exec-shell: the user's program behind Worker.Generate (README "Running your
// own program").
enum class exec_resume { replay, continue_from_context };
enum class exec_framing { lines, chunks };
struct exec_config {
    std::vector<std::string> argv;  // empty = the built-in token generator
    exec_resume resume = exec_resume::replay;
    exec_framing framing = exec_framing::lines;
    std::uint32_t max_jobs = 0;  // 0 = unlimited
    std::size_t max_token_bytes = 64 * 1024;
    std::chrono::milliseconds job_timeout{0};      // 0 = none
    std::chrono::milliseconds kill_timeout{2000};  // SIGTERM -> SIGKILL of the process group
    bool enabled() const noexcept { return !argv.empty(); }
};

struct worker_config {
    common_config common;
    member_config member;
    std::string label = "worker-1";
    std::chrono::milliseconds token_interval{100};
    failure_cycle_config failures;
    exec_config exec;
};

// raw: stdout carries only the token texts, one per line; everything else goes to stderr.
enum class client_output { text, jsonl, raw };

struct client_config {
    common_config common;
    std::vector<common::endpoint> directors;
    std::uint64_t tokens = 0;  // 0 = until interrupted
    std::string prompt = "hello";
    std::string prompt_file;  // --prompt-file: read at start ("-" = stdin); wins over --prompt
    std::size_t resume_context_limit = 1024 * 1024;  // delivered text sent with a resumed call
    tag_map filter;
    client_output output = client_output::text;
    std::chrono::milliseconds wait_timeout{60000};        // no director / no worker: give up after
    std::chrono::milliseconds stream_idle_timeout{1000};  // no frame this long = worker failure
    std::chrono::milliseconds connect_timeout{2000};
    std::string job;  // empty = generated
    std::string
        affinity;  // --affinity KEY: the same key goes to the same worker (strategy affinity)
};

enum class table_output { table, json };
struct members_config {
    common_config common;
    common::endpoint director;
    table_output output = table_output::table;
};

// `rpcnetd stats`: one member's limit and gossip counters (Node.Stats).
enum class stats_output { text, json };
struct stats_config {
    common_config common;
    common::endpoint target;  // any member; default the director address
    stats_output output = stats_output::text;
};

struct events_config {
    common_config common;
    common::endpoint director;
    client_output output = client_output::text;
    std::uint32_t replay = 10;  // recent events printed before following
};

enum class bench_mode { unary, stream, connect, idle, assign };
enum class bench_output { text, json, result };  // result = "RESULT phase=..." line (harness)
struct bench_config {
    common_config common;
    common::endpoint target;
    bench_mode mode = bench_mode::unary;
    std::uint32_t concurrency = 1;
    std::uint32_t payload = 64;  // bytes
    std::chrono::milliseconds duration{5000};
    std::chrono::milliseconds warmup{1000};
    std::uint32_t streams = 1;
    std::uint32_t count = 512000;  // tokens per stream
    std::uint32_t warmup_count = 20000;
    std::uint32_t iters = 200;  // connect mode
    std::uint32_t warmup_iters = 20;
    std::uint32_t channels = 1;  // idle mode: connections
    int server_pid = 0;          // for /proc CPU and RSS readings; 0 = none
    bench_output output = bench_output::text;
};

// rpcnetd keys ACTION: change or show the gossip keyring of every live member (issue #5).
enum class keys_action { install, use, remove, list };
struct keys_config {
    common_config common;  // common.gossip_key_file: the cluster's current primary key
    keys_action action = keys_action::list;
    common::endpoint director;  // asked for the member list
    std::string key_file;       // the key to install/use/remove (unused by list)
};

// rpcnetd drain|undrain --target H:P: Worker.Drain on one worker.
struct drain_config {
    common_config common;
    common::endpoint target;  // the worker
    bool drain = true;        // false: undrain
    bool handoff = false;     // drain: end running streams now (clients resume elsewhere)
};

struct help_request {
    std::string text;
};

using command =
    std::variant<help_request, director_config, worker_config, client_config, members_config,
                 events_config, bench_config, keys_config, stats_config, drain_config>;

// Environment lookup, injectable for tests.
using env_lookup = std::optional<std::string> (*)(const char* name);
std::optional<std::string> real_env(const char* name);

command parse_command_line(int argc, const char* const* argv, env_lookup env = real_env);

}  // namespace rpcnetd::cli
