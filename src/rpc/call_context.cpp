#include "rpc/call_context.hpp"

namespace rpcnetd::rpc {

call_context::call_context(net::asio::any_io_executor ex, std::string method,
                           std::uint32_t stream_id, std::string peer,
                           std::optional<common::time_point> deadline)
    : method_(std::move(method)), stream_id_(stream_id), peer_(std::move(peer)),
      deadline_(deadline), cancel_timer_(std::move(ex), common::clock::time_point::max()) {}

net::awaitable<void> call_context::wait_cancelled() {
    while (!cancelled_) {
        co_await cancel_timer_.async_wait(net::use_tuple);
    }
}

void call_context::cancel(bool by_peer) {
    if (cancelled_) {
        return;
    }
    cancelled_ = true;
    by_peer_ = by_peer;
    cancel_timer_.cancel();
    signal_.emit(net::asio::cancellation_type::terminal);
}

}  // namespace rpcnetd::rpc
