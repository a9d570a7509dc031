#pragma once
// RPC server: accepts TLS 1.3 connections and serves registered methods over them.
//
//   rpc::server srv(ioc.get_executor(), {.listen = {"127.0.0.1", 0}, .tls = cfg.tls});
//   srv.add_unary("Bench.Echo", [this](rpc::call_context& c, std::string req) {
//       return echo(c, std::move(req));            // a member coroutine
//   });
//   srv.start();                                   // binds; throws on a bad address / busy port
//   ... co_await srv.stop(10s);                    // GOAWAY, drain, close; awaits every connection
//
// Threading: every method is called on the executor given to the constructor; handlers run
// there inline (single io_context thread by default). Lifetime: call stop() and await it before
// destroying the server (the destructor otherwise closes every connection abruptly).
//
// Per connection: handshake_timeout covers TCP accept -> TLS handshake -> peer Hello; a
// malformed or oversized frame closes only that connection; max_streams_per_connection
// concurrent calls, further calls end with RESOURCE_EXHAUSTED. max_connections bounds the
// accepted connections (over it, new ones are closed at once). A connection-wide limit broken
// after TLS is up (frame too large, PING flood, Hello timeout, idle) is named in a GOAWAY
// reason before the close; every exceeded limit increments a counter (counters()). Accept errors
// (e.g. out of file descriptors) back off from 5 ms up to 1 s.
#include "common/endpoint.hpp"
#include "common/time.hpp"
#include "net/asio.hpp"
#include "net/task_group.hpp"
#include "rpc/call_context.hpp"
#include "rpc/handler.hpp"
#include "rpc/rpc_config.hpp"
#include "rpc/server_counters.hpp"
#include "rpc/status.hpp"
#include "rpc/stream_writer.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <vector>

namespace rpcnetd::rpc {

namespace detail {
struct server_core;
}

struct server_options {
    common::endpoint listen{"127.0.0.1", 0};  // port 0: any free port (see local_endpoint())
    tls_config tls;
    limits lim;
    std::string node_name = "rpcnetd";
};

class server {
public:
    // `ssl`: a shared server context (tls_context::make_server); when null one is built from
    // opts.tls (throws usage_error on unreadable or bad certificate files).
    server(net::asio::any_io_executor ex, server_options opts,
           std::shared_ptr<boost::asio::ssl::context> ssl = nullptr);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Registration: before start(). A method name is either unary or streaming.
    void add_unary(std::string method, unary_handler h);
    void add_stream(std::string method, stream_handler h);

    // Roles (certificate OU, see tls_context::peer_role) allowed to call `method`, an exact name
    // ("Worker.Generate") or a whole service ("Keys.*"; an exact entry wins). Enforced only when
    // opts.tls.require_client_cert: other callers get PERMISSION_DENIED and no handler runs.
    // Methods without an entry may be called by any authenticated peer. Before start().
    void allow_roles(std::string method, std::vector<std::string> roles);

    // Replaces the TLS context for new connections (certificate reload). Connections already
    // accepted keep the context they were made with until they close.
    void set_tls_context(std::shared_ptr<boost::asio::ssl::context> ssl);

    // Limit and refusal counters since construction.
    const server_counters& counters() const noexcept;

    // Binds and listens, then accepts in the background. Throws runtime_failure when the address
    // cannot be bound (with the address and reason in the message).
    void start();

    // The bound address (after start()).
    net::tcp::endpoint local_endpoint() const;

    // false: new calls end with UNAVAILABLE "server is not accepting calls" (running calls
    // continue, connections stay up, so clients get a readable status); true: serve again.
    void set_accepting(bool on);
    bool accepting() const noexcept;

    // Stops accepting connections, sends GOAWAY on every connection, lets running calls finish
    // for up to drain_timeout, then cancels the rest and closes. Completes when every connection
    // and handler has ended. Calling it twice is harmless.
    net::awaitable<void> stop(common::duration drain_timeout);

    std::size_t connection_count() const noexcept;
    std::size_t active_streams() const noexcept;
    // Request bytes the memory budget holds now: running calls and CALL bodies being read.
    std::uint64_t held_request_bytes() const noexcept;

private:
    net::awaitable<void> accept_loop();
    void close_all_now();

    net::asio::any_io_executor ex_;
    server_options opts_;
    std::shared_ptr<detail::server_core> core_;
    net::tcp::acceptor acceptor_;
    bool started_ = false;
    bool stopped_ = false;
    net::task_group tasks_;  // last: the accept loop
};

}  // namespace rpcnetd::rpc
