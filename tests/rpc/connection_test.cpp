// A misbehaving peer costs only its own connection: oversized or malformed frames, plain TCP on
// the TLS port, silence before the Hello.
#include "rpc/alloc_counter.hpp"
#include "rpc/loopback.hpp"

#include "common/error.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace rpcnetd::test {
namespace {

using common::clock;

std::string hello_frame() {
    v1::Hello h;
    h.set_version(rpc::protocol_version);
    h.set_node_name("raw");
    std::string wire;
    rpc::append_frame(wire, rpc::frame_type::hello, 0, h.SerializeAsString());
    return wire;
}

// Reads until the peer closes; returns the error that ended reading (or timeout).
template <typename Stream>
net::awaitable<net::error_code> read_until_closed(Stream& s, clock::duration limit) {
    std::array<char, 4096> buf{};
    const auto deadline = clock::now() + limit;
    for (;;) {
        auto r = co_await net::with_timeout(s.async_read_some(asio::buffer(buf), net::use_tuple),
                                            deadline - clock::now());
        if (!r) {
            co_return make_error_code(rpcnetd::errc::deadline_exceeded);
        }
        if (auto [ec, n] = *r; ec) {
            co_return ec;
        }
    }
}

net::awaitable<rpc::tls_stream> raw_tls(loopback& lb) {
    net::tcp::socket sock(lb.ioc.get_executor());
    co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), lb.target().port},
                                net::use_awaitable);
    rpc::tls_stream s(std::move(sock), *lb.client_ssl);
    REQUIRE_FALSE(rpc::tls_context::prepare_client(s, "127.0.0.1"));
    co_await s.async_handshake(asio::ssl::stream_base::client, net::use_awaitable);
    co_return s;
}

net::awaitable<void> bad_frame_closes_only_that_connection(loopback& lb, std::string header) {
    auto good = co_await lb.connect();
    auto before = co_await good.unary("Bench.Echo", echo_request("before"), 5s);
    REQUIRE(before.st.ok());

    const auto allocs = large_allocations();
    auto raw = co_await raw_tls(lb);
    co_await asio::async_write(raw, asio::buffer(hello_frame() + header), net::use_awaitable);
    const auto ec = co_await read_until_closed(raw, 10s);
    CHECK(ec != make_error_code(rpcnetd::errc::deadline_exceeded));  // the server closed it
    CHECK(large_allocations() == allocs);                            // without allocating the body

    auto after = co_await good.unary("Bench.Echo", echo_request("after"), 5s);
    CHECK(after.st.ok());
    CHECK(good.is_open());
}

std::string header_bytes(std::uint32_t length, std::uint8_t type, std::uint8_t reserved = 0) {
    std::array<std::uint8_t, rpc::frame_header_size> h{};
    rpc::encode_header({length, 1, static_cast<rpc::frame_type>(type), 0}, h);
    h[11] = reserved;
    return {reinterpret_cast<const char*>(h.data()), h.size()};
}

net::awaitable<void> plain_tcp_is_closed(loopback& lb, std::string bytes, clock::duration* took) {
    net::tcp::socket sock(lb.ioc.get_executor());
    const auto t0 = clock::now();
    co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), lb.target().port},
                                net::use_awaitable);
    if (!bytes.empty()) {
        co_await asio::async_write(sock, asio::buffer(bytes), net::use_awaitable);
    }
    const auto ec = co_await read_until_closed(sock, 10s);
    *took = clock::now() - t0;
    CHECK(ec != make_error_code(rpcnetd::errc::deadline_exceeded));
}

net::awaitable<void> tls_without_hello_is_closed(loopback& lb, clock::duration* took) {
    const auto t0 = clock::now();
    auto raw = co_await raw_tls(lb);
    const auto ec = co_await read_until_closed(raw, 10s);
    *took = clock::now() - t0;
    CHECK(ec != make_error_code(rpcnetd::errc::deadline_exceeded));
}

net::awaitable<void> keepalive_keeps_idle_connection(loopback& lb, rpc::limits lim) {
    rpc::channel_options o;
    o.lim = lim;
    auto c = co_await lb.connect_with(o);
    asio::steady_timer t(co_await asio::this_coro::executor, 4 * lim.idle_timeout);
    co_await t.async_wait(net::use_tuple);  // silent far longer than the idle timeout
    CHECK(c.is_open());
    CHECK(lb.srv->connection_count() == 1);
    auto r = co_await c.unary("Bench.Echo", echo_request("still here"), 5s);
    CHECK(r.st.ok());
}

net::awaitable<void> silent_peer_is_closed(loopback& lb, clock::duration* took) {
    auto raw = co_await raw_tls(lb);
    const auto t0 = clock::now();
    co_await asio::async_write(raw, asio::buffer(hello_frame()), net::use_awaitable);
    // Reads (and so sees the server's PINGs) but never answers them.
    const auto ec = co_await read_until_closed(raw, 10s);
    *took = clock::now() - t0;
    CHECK(ec != make_error_code(rpcnetd::errc::deadline_exceeded));
}

}  // namespace

TEST_CASE("connection: keep-alive pings keep a quiet connection and a silent peer is dropped",
          "[rpc][integration]") {
    rpc::limits lim;
    lim.keepalive_interval = 50ms;
    lim.idle_timeout = 300ms;
    loopback lb(lim);
    lb.srv->start();
    SECTION("both sides answer pings") {
        run_coro(lb.ioc, keepalive_keeps_idle_connection(lb, lim));
    }
    SECTION("peer that never answers") {
        clock::duration took{};
        run_coro(lb.ioc, silent_peer_is_closed(lb, &took));
        CHECK(took >= 250ms);
        CHECK(took < 5s);
    }
}

TEST_CASE("connection: a 1 GiB frame header closes only that connection, with no allocation",
          "[rpc][integration]") {
    loopback lb;
    lb.srv->start();
    run_coro(lb.ioc, bad_frame_closes_only_that_connection(lb, header_bytes(1U << 30U, 3)));
}

TEST_CASE("connection: malformed frame headers close only that connection", "[rpc][integration]") {
    loopback lb;
    lb.srv->start();
    SECTION("unknown type") {
        run_coro(lb.ioc, bad_frame_closes_only_that_connection(lb, header_bytes(0, 42)));
    }
    SECTION("reserved bits set") {
        run_coro(lb.ioc, bad_frame_closes_only_that_connection(lb, header_bytes(0, 3, 1)));
    }
    SECTION("connection frame on a stream") {
        run_coro(lb.ioc, bad_frame_closes_only_that_connection(lb, header_bytes(0, 6)));
    }
}

TEST_CASE("connection: plain TCP to the TLS port is closed within the handshake timeout",
          "[rpc][integration]") {
    rpc::limits lim;
    lim.handshake_timeout = 300ms;
    loopback lb(lim);
    lb.srv->start();
    clock::duration took{};
    SECTION("garbage bytes") {
        run_coro(lb.ioc, plain_tcp_is_closed(lb, "GET / HTTP/1.0\r\n\r\n", &took));
        CHECK(took < 5s);
    }
    SECTION("silence") {
        run_coro(lb.ioc, plain_tcp_is_closed(lb, "", &took));
        CHECK(took >= 250ms);  // closed by the timeout, not by anything else
        CHECK(took < 5s);
    }
    SECTION("TLS handshake but no Hello") {
        run_coro(lb.ioc, tls_without_hello_is_closed(lb, &took));
        CHECK(took >= 250ms);
        CHECK(took < 5s);
    }
}

}  // namespace rpcnetd::test
