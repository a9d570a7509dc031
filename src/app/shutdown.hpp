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
        if (cancelled_) {
            co_return 0;
        }
        auto [ec, sig] = co_await signals_.async_wait(net::use_tuple);
        co_return ec ? 0 : sig;
    }
    // Also before wait() started: wait() then completes at once.
    void cancel() {
        cancelled_ = true;
        signals_.cancel();
    }

private:
    net::asio::signal_set signals_;
    bool cancelled_ = false;
};

}  // namespace rpcnetd::app
