#pragma once
// The flag tables of every mode (Boost.Program_options) and their conversion into config structs.
// Raw strings are bound first and validated in finish(), so every error names its flag.
#include "cli/options.hpp"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <string>
#include <vector>

namespace rpcnetd::cli {

class option_groups {
public:
    explicit option_groups(env_lookup env);

    // Throws usage_error for an unknown mode.
    boost::program_options::options_description for_mode(const std::string& mode);
    std::string synopsis(const std::string& mode) const;
    command finish(const std::string& mode, const boost::program_options::variables_map& vm);
    // The options every mode has (the keys a --config file's [common] section may set).
    boost::program_options::options_description common_options() { return common_group(); }
    const std::string& config_file() const { return config_file_; }
    bool print_config() const { return print_config_; }

private:
    using options = boost::program_options::options_description;
    using values = boost::program_options::variables_map;

    // One row per mode (option_modes.cpp): its synopsis, its flags, its finishing checks. The
    // flags and checks of each mode live in the mode's file (option_mode_*.cpp).
    struct mode_entry {
        const char* name;
        const char* synopsis;
        void (option_groups::*flags)(options& all);
        command (option_groups::*finish)(const values& vm);
    };
    static const mode_entry* find_mode(const std::string& mode);

    // Shared by every mode (option_groups.cpp).
    options common_group();
    common_config finish_common(const values& vm);
    // Shared by the member modes, director and worker (option_mode_member.cpp).
    void add_member_tail(options& d);
    options swim_group();
    options rpc_group();
    member_config finish_member(const values& vm, bool is_director);
    membership::swim_config finish_swim();
    rpc::limits finish_limits();

    // option_mode_director.cpp
    void director_flags(options& all);
    command finish_director(const values& vm);
    // option_mode_worker.cpp
    void worker_flags(options& all);
    command finish_worker(const values& vm);
    exec_config finish_exec(const values& vm);
    // option_mode_client.cpp
    void client_flags(options& all);
    command finish_client(const values& vm);
    // option_mode_admin.cpp: members, events, stats, drain, undrain, keys
    options director_view_flags(const char* output, const char* output_help);
    void members_flags(options& all);
    command finish_members(const values& vm);
    void events_flags(options& all);
    command finish_events(const values& vm);
    void stats_flags(options& all);
    command finish_stats(const values& vm);
    void drain_flags(options& all);
    command finish_drain(const values& vm);
    void undrain_flags(options& all);
    command finish_undrain(const values& vm);
    command finish_drain_or_undrain(const values& vm, bool drain);
    void keys_flags(options& all);
    command finish_keys(const values& vm);
    // option_mode_bench.cpp
    void bench_flags(options& all);
    command finish_bench(const values& vm);

    std::string env_or(const char* name, const std::string& fallback) const;
    std::string log_level_default() const;

    env_lookup env_;
    // common
    std::string cert_, key_, ca_, gossip_key_, cluster_, log_level_, log_format_;
    bool require_client_cert_ = false;
    std::string config_file_;
    bool print_config_ = false;
    // member
    std::string addr_, name_, join_, drain_timeout_, http_addr_;
    std::vector<std::string> tags_;
    // swim
    std::string probe_interval_, probe_timeout_, gossip_interval_, push_pull_interval_,
        reconnect_interval_, reap_after_, phi_min_std_dev_, phi_acceptable_pause_,
        phi_first_heartbeat_;
    unsigned phi_window_ = 0;
    unsigned max_push_pull_members_ = 0;
    unsigned indirect_probes_ = 0, suspicion_mult_ = 0, suspicion_max_mult_ = 0, awareness_max_ = 0,
             retransmit_mult_ = 0, gossip_fanout_ = 0;
    double phi_threshold_ = 0;
    // rpc limits
    unsigned max_frame_ = 0, max_streams_ = 0, max_connections_ = 0, max_queued_ = 0,
             max_ping_strikes_ = 0, max_request_conn_ = 0, max_request_all_ = 0;
    std::string handshake_timeout_, idle_timeout_, keepalive_interval_, min_ping_interval_;
    // director
    std::string strategy_, health_interval_, status_interval_;
    std::string queue_timeout_;
    unsigned queue_size_ = 0, simulate_workers_ = 0;
    double affinity_epsilon_ = 0;
    // worker
    std::string label_, token_interval_, failure_healthy_, failure_warning_, failure_failed_;
    bool simulate_failures_ = false;
    std::string exec_, exec_shell_, resume_, framing_, job_timeout_, kill_timeout_;
    unsigned max_jobs_ = 0;
    unsigned long long max_token_bytes_ = 0, resume_context_limit_ = 0;
    std::string prompt_file_;
    // client / members / events
    std::string director_, prompt_, filter_, output_, wait_timeout_, stream_idle_timeout_,
        connect_timeout_, job_, affinity_;
    unsigned long long tokens_ = 0;
    unsigned replay_ = 0;
    // bench
    std::string target_, bench_mode_, duration_, warmup_;
    unsigned concurrency_ = 0, payload_ = 0, streams_ = 0, count_ = 0, warmup_count_ = 0,
             iters_ = 0, warmup_iters_ = 0, channels_ = 0;
    int server_pid_ = 0;
    // keys
    std::string keys_action_, key_file_;
    // drain
    bool handoff_ = false;
};

}  // namespace rpcnetd::cli
