#pragma once
// What director and worker serve on --http-addr (issue #9): /metrics, /healthz, /readyz and
// /members over http::server, rendered from the member's in-memory state on its own thread.
// The node's metrics (Node.Stats counters, members by state, queued gossip, probe round trips)
// are rendered here; the mode adds its own through the metrics callback.
#include "app/member_node.hpp"
#include "common/metrics.hpp"
#include "http/http_server.hpp"

#include <functional>
#include <string>
#include <utility>

namespace rpcnetd::app {

class ops_endpoint {
public:
    // (ready, one line saying why) for /readyz.
    using readiness = std::function<std::pair<bool, std::string>()>;
    // The `members --output json` document for /members.
    using members_doc = std::function<std::string()>;
    using mode_metrics = std::function<void(common::metrics::exposition&)>;

    ops_endpoint(net::asio::any_io_executor ex, const common::endpoint& addr, member_node& node,
                 readiness ready, members_doc members, mode_metrics metrics);

    void start() { server_.start(); }
    net::awaitable<void> stop() { return server_.stop(); }

    // The whole /metrics page (also used by tests through the endpoint).
    std::string render_metrics() const;

private:
    member_node& node_;
    readiness ready_;
    members_doc members_;
    mode_metrics metrics_;
    http::server server_;
};

}  // namespace rpcnetd::app
