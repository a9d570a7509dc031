#pragma once
// The phases of `rpcnetd bench` (see bench.hpp), each a coroutine on the bench's single
// io_context thread that prints its report and returns the exit code.
#include "cli/options.hpp"
#include "net/asio.hpp"
#include "rpc/channel.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>

namespace rpcnetd::app {

struct bench_env {
    cli::bench_config cfg;
    std::shared_ptr<boost::asio::ssl::context> ssl;  // one client context for every connection
    rpc::channel_options opts;
};

net::awaitable<int> bench_unary(bench_env& env);
net::awaitable<int> bench_stream(bench_env& env);
net::awaitable<int> bench_connect(bench_env& env);
net::awaitable<int> bench_idle(bench_env& env);
// Against a director: C closed-loop callers, each Director.Assign then Director.Release.
net::awaitable<int> bench_assign(bench_env& env);

// Shared by the phases.
net::awaitable<rpc::channel> bench_connect_or_throw(const bench_env& env);
net::awaitable<void> bench_sleep(std::chrono::steady_clock::duration d);

}  // namespace rpcnetd::app
