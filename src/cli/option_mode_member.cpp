// What the member modes (director, worker) share: gossip and RPC flags, and their checks.
#include "cli/flag_parsers.hpp"
#include "cli/option_groups.hpp"
#include "common/error.hpp"

#include "membership/swim_codec.hpp"
#include "rpc/frame.hpp"
#include <boost/program_options.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace po = boost::program_options;

namespace rpcnetd::cli {

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

void option_groups::add_member_tail(po::options_description& d) {
    d.add_options()("drain-timeout", po::value(&drain_timeout_)->default_value("10s"),
                    "on SIGTERM/SIGINT, let running streams finish this long");
    d.add_options()("http-addr", po::value(&http_addr_)->default_value(""),
                    "serve GET /metrics (Prometheus), /healthz, /readyz, /members over plain "
                    "HTTP on H:P, e.g. 127.0.0.1:9464 (off unless given)");
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
        "RESOURCE_EXHAUSTED, its body dropped unread (at least --max-frame)")(
        "max-request-bytes", po::value(&max_request_all_)->default_value(256U * 1024U * 1024U),
        "request bytes held by all running calls of the server (at least the per-connection "
        "budget)");
    return d;
}

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

    m.swim = finish_swim();
    m.limits = finish_limits();
    return m;
}

membership::swim_config option_groups::finish_swim() {
    membership::swim_config s;
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
    return s;
}

rpc::limits option_groups::finish_limits() {
    rpc::limits l;
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
    return l;
}

}  // namespace rpcnetd::cli
