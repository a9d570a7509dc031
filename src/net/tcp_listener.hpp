#pragma once
// Opening a TCP listener, shared by the RPC server and the HTTP endpoint.
#include "common/endpoint.hpp"
#include "net/asio.hpp"

#include <string_view>

namespace rpcnetd::net {

// An IP literal or "localhost" as a TCP endpoint; anything else throws usage_error
// "<what> must be an IP address: <ep>".
tcp::endpoint listen_endpoint(const common::endpoint& ep, std::string_view what);

// open, SO_REUSEADDR, bind, listen; the first failure as a value.
error_code open_listener(tcp::acceptor& acceptor, const tcp::endpoint& ep);

}  // namespace rpcnetd::net
