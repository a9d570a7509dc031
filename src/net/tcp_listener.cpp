#include "net/tcp_listener.hpp"

#include "common/error.hpp"

#include <string>

namespace rpcnetd::net {

tcp::endpoint listen_endpoint(const common::endpoint& ep, std::string_view what) {
    error_code ec;
    auto addr = asio::ip::make_address(ep.host, ec);
    if (ec) {
        if (ep.host != "localhost") {
            throw usage_error(std::string(what) + " must be an IP address: " + ep.to_string());
        }
        addr = asio::ip::address_v4::loopback();
    }
    return {addr, ep.port};
}

error_code open_listener(tcp::acceptor& acceptor, const tcp::endpoint& ep) {
    error_code ec;
    acceptor.open(ep.protocol(), ec);
    if (!ec) {
        acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor.bind(ep, ec);
    }
    if (!ec) {
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    return ec;
}

}  // namespace rpcnetd::net
