#pragma once
// Handler signatures a server registers per method name. Handlers run inline on the connection's
// I/O thread (no thread hop): do no blocking work in them; post CPU-heavy work to a thread_pool.
//
// A handler is invoked once per call and returns a coroutine. Register plain lambdas that RETURN
// a member coroutine, never capturing lambda coroutines (STYLE.md §3):
//   srv.add_unary("Bench.Echo", [this](rpc::call_context& c, std::string req) {
//       return echo(c, std::move(req));
//   });
// The objects a handler's coroutine uses must outlive server::stop().
#include "net/asio.hpp"
#include "rpc/status.hpp"

#include <functional>
#include <string>
#include <utility>

namespace rpcnetd::rpc {

class call_context;
class stream_writer;

// Returns the final status and, when it is OK, the serialized response message.
using unary_handler =
    std::function<net::awaitable<std::pair<status, std::string>>(call_context&, std::string)>;

// Writes any number of messages with stream_writer::write, then returns the final status.
// When write() reports an error (cancelled, connection gone), return promptly; the status is
// then not delivered.
using stream_handler =
    std::function<net::awaitable<status>(call_context&, std::string, stream_writer&)>;

}  // namespace rpcnetd::rpc
