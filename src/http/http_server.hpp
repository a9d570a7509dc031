#pragma once
// The operator's HTTP endpoint (--http-addr, issue #9): plain HTTP/1.1 with Boost.Beast, GET
// only, on the member's own io_context. Every step is asynchronous and bounded, so a slow or
// hostile scraper can never hold up the RPC server or gossip that share the thread:
//   - request header at most header_limit bytes (larger: 431 and close), no request body;
//   - the whole request must arrive within read_timeout, a response be written within it too;
//   - at most max_connections at once (more are closed at accept);
//   - a connection serves requests while the client keeps it alive, each bounded as above.
// Methods other than GET (and HEAD) get 405 with "Allow: GET"; unknown paths 404.
//
// Handlers run inline on the executor and must not block: they render from in-memory state.
// Lifetime: start(), then stop() awaited before destruction (it closes every connection).
#include "common/endpoint.hpp"
#include "net/asio.hpp"
#include "net/task_group.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

namespace rpcnetd::http {

struct response {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

using handler = std::function<response()>;

struct server_options {
    common::endpoint listen{"127.0.0.1", 0};  // an IP literal or localhost; port 0: any free port
    std::size_t header_limit = 8192;
    std::chrono::milliseconds read_timeout{5000};
    std::size_t max_connections = 64;
};

struct server_counters {
    std::uint64_t requests = 0;
    std::uint64_t refused = 0;  // bad requests, oversized headers, timeouts, over max_connections
};

class server {
public:
    server(net::asio::any_io_executor ex, server_options opts);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Before start(): path -> handler for GET.
    void route(std::string path, handler h) { routes_[std::move(path)] = std::move(h); }

    // Binds and listens (runtime_failure naming the address when it cannot), then accepts in the
    // background.
    void start();
    // Closes the listener and every connection, and awaits them.
    net::awaitable<void> stop();

    common::endpoint local_endpoint() const;
    const server_counters& counters() const { return counters_; }

private:
    net::awaitable<void> accept_loop();
    net::awaitable<void> session(net::tcp::socket socket);
    response answer(const std::string& method, const std::string& target) const;

    net::asio::any_io_executor ex_;
    server_options opts_;
    net::tcp::acceptor acceptor_;
    std::map<std::string, handler> routes_;
    std::set<net::tcp::socket*> open_;  // live sessions' sockets, closed by stop()
    server_counters counters_;
    bool stopping_ = false;
    net::task_group tasks_;  // last: the accept loop and the sessions
};

}  // namespace rpcnetd::http
