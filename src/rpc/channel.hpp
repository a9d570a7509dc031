#pragma once
// rpc::channel, the client side of RPC: one TLS connection to one server, many concurrent calls
// multiplexed on it and matched by stream id.
//
//   auto ssl = rpc::tls_context::make_client(cfg.tls);          // once per process, shared
//   auto r = co_await rpc::channel::connect(ex, {"127.0.0.1", 7946}, ssl, {});
//   if (!r) { ... r.error().message() ... }
//   rpc::channel c = *r;
//   auto res = co_await c.unary("Bench.Echo", req_bytes, 2s);   // res.st, res.response
//   auto s = co_await c.open_stream("Bench.Stream", req_bytes);
//   for (;;) { auto item = co_await s.next(1s); ... }
//
// `channel` is a cheap handle: copies share the connection (pass it by value to spawned
// coroutines). The connection is closed when the last handle and the last client_stream are gone,
// or by close(). Use a channel only on the executor it was connected on.
#include "common/endpoint.hpp"
#include "common/time.hpp"
#include "net/asio.hpp"
#include "rpc/client_stream.hpp"
#include "rpc/rpc_config.hpp"
#include "rpc/status.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace rpcnetd::rpc {

struct channel_options {
    channel_options() {}  // user-provided: not an aggregate (see connect() on GCC 12)
    tls_config tls;       // server_name: the name to verify (empty = target host); files are used
                          // only when connect() is given no ssl context
    limits lim;
    std::string node_name = "rpcnetd-client";
    std::chrono::milliseconds connect_timeout{2000};  // resolve + TCP + TLS + Hello, in total
    // connect() returns once TLS is up and our Hello is queued, without waiting for the server's
    // Hello: the first call leaves with the handshake's last flight, a round trip (two process
    // wake-ups) earlier. A server that then refuses the Hello fails the call (UNAVAILABLE).
    bool early_calls = false;
};

struct call_result {
    status st;             // server status, or UNAVAILABLE / DEADLINE_EXCEEDED / CANCELLED
    std::string response;  // the serialized response message when st.ok()
};

class channel {
public:
    // Connects to `target` (host name or IP): TCP, TLS 1.3 handshake verifying the server's
    // certificate and name, then the Hello exchange, all within opts.connect_timeout. `ssl` is a
    // shared tls_context::make_client context (null: one is built from opts.tls, which costs
    // ~100 µs and may throw usage_error for bad files). Errors: system errors (connection
    // refused), TLS errors (e.g. "certificate verify failed"), errc::handshake_timeout or
    // errc::deadline_exceeded when the timeout passes, errc::protocol_version.
    // GCC 12 bug: an AGGREGATE temporary used as an argument inside a co_await expression is
    // destroyed twice (heap double free). common::endpoint is an aggregate: write
    //   const common::endpoint target{"h", 1}; co_await channel::connect(ex, target, ssl, {});
    // not co_await channel::connect(ex, {"h", 1}, ...). channel_options is not an aggregate.
    static net::awaitable<boost::system::result<channel>>
    connect(net::asio::any_io_executor ex, const common::endpoint& target,
            std::shared_ptr<boost::asio::ssl::context> ssl, const channel_options& opts);

    channel() = default;  // not connected: every call fails with UNAVAILABLE

    bool is_open() const noexcept;
    // Remote "ip:port".
    std::string peer() const;
    // Whether the TLS handshake resumed a session (tls_context::enable_resumption).
    bool resumed() const;
    // Streams (unary or streaming) currently open on the connection.
    std::size_t open_streams() const noexcept;

    // One request, one response. Completes with the server's status, or DEADLINE_EXCEEDED after
    // `timeout` (the call is then cancelled on the server), or UNAVAILABLE if the connection is
    // closed, lost, or the server sent GOAWAY. If the awaiting coroutine is cancelled, this
    // throws operation_aborted and the call is cancelled on the server.
    net::awaitable<call_result> unary(std::string method, std::string request,
                                      common::duration timeout);

    // Opens a server-streaming call. Never fails itself: problems show up as the stream's first
    // item (error/UNAVAILABLE, or finished with the server's refusal, e.g. RESOURCE_EXHAUSTED).
    // Waits only while the connection's outbound queue is full (backpressure).
    net::awaitable<client_stream> open_stream(std::string method, std::string request);

    // Closes the connection now (for every copy of this handle); open calls end with
    // UNAVAILABLE. (When the last handle is dropped instead, queued frames are flushed first.)
    void close();

private:
    static net::awaitable<boost::system::result<channel>>
    connect_impl(net::asio::any_io_executor ex, common::endpoint target,
                 std::shared_ptr<boost::asio::ssl::context> ssl, channel_options opts);
    explicit channel(std::shared_ptr<detail::channel_handle> h) noexcept : handle_(std::move(h)) {}
    std::shared_ptr<detail::channel_handle> handle_;
};

}  // namespace rpcnetd::rpc
