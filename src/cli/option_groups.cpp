// The flags every mode has, and the table of modes (which mode owns which flags and which
// finishing checks: option_mode_*.cpp).
#include "cli/option_groups.hpp"
#include "cli/flag_parsers.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace rpcnetd::cli {

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

const option_groups::mode_entry* option_groups::find_mode(const std::string& mode) {
    static const mode_entry modes[] = {
        {"director",
         "[--addr H:P] [--name NAME] [--join H:P[,H:P...]] "
         "[--strategy least-connections|round-robin|random|power-of-two|affinity] "
         "[--queue-size N] [--queue-timeout DUR] [--http-addr H:P]",
         &option_groups::director_flags, &option_groups::finish_director},
        {"worker",
         "[--label NAME] [--addr H:P] [--join H:P[,H:P...]] [--tag K=V]... "
         "[--simulate-failures] [--token-interval DUR] [--http-addr H:P] "
         "[--exec 'PROGRAM ARG...' | --exec-shell 'COMMAND'] [--resume replay|continue] "
         "[--max-jobs N] "
         "[--max-token-bytes B] [--job-timeout DUR] [--exec-kill-timeout DUR] "
         "[--exec-framing lines|chunks]",
         &option_groups::worker_flags, &option_groups::finish_worker},
        {"client",
         "[--director H:P[,H:P...]] [--tokens N] [--prompt TEXT | --prompt-file FILE|-] "
         "[--filter K=V[,K=V...]] [--affinity KEY] [--resume-context-limit BYTES] "
         "[--output text|jsonl|raw]",
         &option_groups::client_flags, &option_groups::finish_client},
        {"members", "[--director H:P] [--output table|json]", &option_groups::members_flags,
         &option_groups::finish_members},
        {"events", "[--director H:P] [--output text|jsonl] [--replay N]",
         &option_groups::events_flags, &option_groups::finish_events},
        {"stats", "[--target H:P] [--output text|json]", &option_groups::stats_flags,
         &option_groups::finish_stats},
        {"drain", "--target H:P [--handoff]", &option_groups::drain_flags,
         &option_groups::finish_drain},
        {"undrain", "--target H:P", &option_groups::undrain_flags, &option_groups::finish_undrain},
        {"keys", "install|use|remove|list [--director H:P] [--key-file FILE] --gossip-key CURRENT",
         &option_groups::keys_flags, &option_groups::finish_keys},
        {"bench",
         "--target H:P [--mode unary|stream|connect|idle|assign] [--concurrency C] [--payload B] "
         "[--duration DUR] [--streams S] [--count M] [--output text|json|result]",
         &option_groups::bench_flags, &option_groups::finish_bench},
    };
    for (const auto& m : modes) {
        if (mode == m.name) {
            return &m;
        }
    }
    return nullptr;
}

std::string option_groups::synopsis(const std::string& mode) const {
    const auto* m = find_mode(mode);
    return (m != nullptr ? m : find_mode("bench"))->synopsis;
}

po::options_description option_groups::for_mode(const std::string& mode) {
    const auto* m = find_mode(mode);
    if (m == nullptr) {
        throw usage_error("unknown mode '" + mode +
                          "' (expected director, worker, client, members, events, keys, drain, "
                          "undrain, bench or stats)");
    }
    po::options_description all;
    (this->*m->flags)(all);
    all.add(common_group());
    return all;
}

command option_groups::finish(const std::string& mode, const po::variables_map& vm) {
    const auto* m = find_mode(mode);
    return (this->*(m != nullptr ? m : find_mode("bench"))->finish)(vm);
}

}  // namespace rpcnetd::cli
