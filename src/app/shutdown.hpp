#pragma once
// SIGINT / SIGTERM as an awaitable: the modes await it beside their services and then stop them
// gracefully (leave, drain, exit 0). Lives on the io_context thread that created it.
#include "net/asio.hpp"

#include <boost/asio/signal_set.hpp>

namespace rpcnetd::app {

class shutdown_signal {
public:
    explicit shutdown_signal(net::asio::any_io_executor executor)
        : signals_(executor, SIGINT, SIGTERM) {}

    // Completes with the signal number; with 0 when cancel() was called.
    net::awaitable<int> wait() {
        auto [ec, sig] = co_await signals_.async_wait(net::use_tuple);
        co_return ec ? 0 : sig;
    }
    void cancel() { signals_.cancel(); }

private:
    net::asio::signal_set signals_;
};

} // namespace rpcnetd::app
