#pragma once
// Deadline for one awaited operation (Boost 1.81 has no cancel_after): races the operation
// against a timer with awaitable_operators; the loser is cancelled. The operation should report
// errors as values (net::use_tuple): an operation that throws is treated as not completing and
// the call returns when the timer fires. The timer reports its cancellation as a value too: a
// thrown operation_aborted per call cost a C++ exception on every connect (perf: 4 % of a
// client's failover).
#include "net/asio.hpp"

#include <chrono>
#include <optional>
#include <utility>
#include <variant>

namespace rpcnetd::net {

// The operation's result, or nullopt when `limit` passed first.
template <typename T>
awaitable<std::optional<T>> with_timeout(awaitable<T> op,
                                         std::chrono::steady_clock::duration limit) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor, limit);
    auto r = co_await (std::move(op) || timer.async_wait(use_tuple));
    if (r.index() == 0) {
        co_return std::optional<T>(std::move(std::get<0>(r)));
    }
    co_return std::nullopt;
}

// True when the operation completed within `limit`.
inline awaitable<bool> with_timeout(awaitable<void> op, std::chrono::steady_clock::duration limit) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor, limit);
    auto r = co_await (std::move(op) || timer.async_wait(use_tuple));
    co_return r.index() == 0;
}

}  // namespace rpcnetd::net
