#pragma once
// The seam through which push-pull (a full membership state exchange, SWIM's anti-entropy and
// the join through seeds) leaves membership (issue #12 item 2), in the shape of ScyllaDB's direct
// failure detector, which takes a pinger& at construction: swim_service is given a
// push_pull_transport& when it is built and calls it for every exchange; the app implements it
// with the Membership.PushPull RPC (app/push_pull_rpc.hpp), tests with an in-process registry.
//
// The inbound direction is swim_service::handle_push_pull(), which the transport's server side
// calls with the state a peer sent.
#include "common/endpoint.hpp"
#include "membership/member.hpp"
#include "net/asio.hpp"

#include <optional>
#include <vector>

namespace rpcnetd::membership {

class push_pull_transport {
public:
    virtual ~push_pull_transport() = default;

    // Sends our state to `to` and returns theirs, or nullopt on failure (unreachable, refused,
    // does not authenticate). `join`: the exchange joins the cluster through a seed. Must finish
    // or honour cancellation; the service bounds it by a deadline of 5 s.
    virtual net::awaitable<std::optional<std::vector<member>>>
    exchange(common::endpoint to, std::vector<member> local, bool join) = 0;
};

}  // namespace rpcnetd::membership
