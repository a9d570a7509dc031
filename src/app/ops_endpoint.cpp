#include "app/ops_endpoint.hpp"

#include "membership/member.hpp"

#include <array>

namespace rpcnetd::app {
namespace {

namespace m = common::metrics;

// Node.Stats entries that are levels, not running totals: exported as gauges without _total.
bool is_level(std::string_view stat) {
    return stat.ends_with("_open") || stat == "events.subscribers" ||
           stat == "rpc.request_bytes_held";
}

constexpr std::string_view text_format = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

ops_endpoint::ops_endpoint(net::asio::any_io_executor ex, const common::endpoint& addr,
                           member_node& node, readiness ready, members_doc members,
                           mode_metrics metrics)
    : node_(node), ready_(std::move(ready)), members_(std::move(members)),
      metrics_(std::move(metrics)), server_(ex, http::server_options{.listen = addr}) {
    // Answered on the member's io_context: a reply at all proves its event loop turns.
    server_.route("/healthz", [] {
        return http::response{200, "text/plain; charset=utf-8", "ok\n"};
    });
    server_.route("/readyz", [this] {
        auto [ok, why] = ready_();
        return http::response{ok ? 200U : 503U, "text/plain; charset=utf-8", why + "\n"};
    });
    server_.route("/members", [this] {
        return http::response{200, "application/json", members_()};
    });
    server_.route("/metrics", [this] {
        return http::response{200, std::string(text_format), render_metrics()};
    });
}

std::string ops_endpoint::render_metrics() const {
    m::exposition e;
    for (const auto& [name, value] : node_.stats()) {
        const auto base = "rpcnetd_" + m::metric_name(name);
        const auto v = static_cast<double>(value);
        if (is_level(name)) {
            e.gauge(base, "Node.Stats " + name + " (a current level)", v);
        } else {
            e.counter(base + "_total", "Node.Stats counter " + name, v);
        }
    }
    static constexpr std::array states = {
        membership::member_status::alive, membership::member_status::suspect,
        membership::member_status::failed, membership::member_status::left};
    std::array<std::size_t, states.size()> by_state{};
    for (const auto& mem : node_.members()) {
        for (std::size_t i = 0; i < states.size(); ++i) {
            by_state[i] += mem.status == states[i] ? 1 : 0;
        }
    }
    for (std::size_t i = 0; i < states.size(); ++i) {
        e.gauge("rpcnetd_members", "Members in this node's view by state (itself included)",
                static_cast<double>(by_state[i]),
                {{"state", std::string(membership::to_string(states[i]))}});
    }
    e.gauge("rpcnetd_gossip_queued_updates",
            "Membership updates waiting to be piggybacked on gossip",
            static_cast<double>(node_.queued_gossip()));
    e.add_histogram("rpcnetd_probe_rtt_seconds",
                    "SWIM probe round trip (ping sent to ack received, direct or indirect)",
                    node_.probe_rtt());
    if (metrics_) {
        metrics_(e);
    }
    const auto& hc = server_.counters();
    e.counter("rpcnetd_http_requests_total", "HTTP requests answered on --http-addr",
              static_cast<double>(hc.requests));
    e.counter("rpcnetd_http_refused_total",
              "HTTP requests refused (malformed, header too large, timed out, too many "
              "connections)",
              static_cast<double>(hc.refused));
    return e.str();
}

}  // namespace rpcnetd::app
