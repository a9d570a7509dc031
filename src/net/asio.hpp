#pragma once
// Asio vocabulary for the shells. Boost 1.81: no cancel_after, no default deferred token, so the
// completion tokens are spelled out here once.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace rpcnetd::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
template <typename T = void>
using awaitable = asio::awaitable<T>;
using asio::use_awaitable;
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using error_code = boost::system::error_code;

}  // namespace rpcnetd::net
