// Client behaviour: deadlines, refused connections, lost connections.
#include "rpc/loopback.hpp"

namespace rpcnetd::test {
namespace {

net::awaitable<std::pair<rpc::status, std::string>>
never_answers(int* cancelled, rpc::call_context& ctx, std::string request) {
    (void)request;
    co_await ctx.wait_cancelled();
    ++*cancelled;
    co_return std::pair{rpc::status{v1::CANCELLED}, std::string()};
}

net::awaitable<void> deadline_cancels_call(loopback& lb, int& cancelled) {
    auto c = co_await lb.connect();
    auto r = co_await c.unary("Test.Never", "", 100ms);
    CHECK(r.st.code == v1::DEADLINE_EXCEEDED);
    CHECK(co_await eventually([&] { return cancelled == 1; }));
    CHECK(co_await eventually([&] { return lb.srv->active_streams() == 0; }));
    auto ok = co_await c.unary("Bench.Echo", echo_request("still fine"), 5s);
    CHECK(ok.st.ok());
}

net::awaitable<void> refused(asio::io_context& ioc, std::uint16_t port, std::string* error) {
    auto ssl = rpc::tls_context::make_client(client_tls());
    const common::endpoint target{"127.0.0.1", port};
    auto r = co_await rpc::channel::connect(ioc.get_executor(), target, ssl, {});
    REQUIRE_FALSE(r.has_value());
    *error = r.error().message();
}

net::awaitable<void> lost_connection(loopback& lb) {
    auto c = co_await lb.connect();
    auto s = co_await c.open_stream("Bench.Stream", stream_request(1, true));
    auto first = co_await s.next(5s);
    REQUIRE(first.what == rpc::stream_item::kind::message);
    co_await lb.srv->stop(50ms);  // the held stream does not finish: cancelled and closed
    auto item = co_await s.next(5s);
    CHECK(item.what != rpc::stream_item::kind::message);
    CHECK(item.what != rpc::stream_item::kind::timeout);
    CHECK(item.st.code == v1::UNAVAILABLE);
    auto r = co_await c.unary("Bench.Echo", echo_request("x"), 1s);
    CHECK(r.st.code == v1::UNAVAILABLE);
    CHECK_FALSE(c.is_open());
}

net::awaitable<void> idle_timeout_item(loopback& lb) {
    auto c = co_await lb.connect();
    auto s = co_await c.open_stream("Bench.Stream", stream_request(1, true));
    auto first = co_await s.next(5s);
    REQUIRE(first.what == rpc::stream_item::kind::message);
    auto second = co_await s.next(50ms);
    CHECK(second.what == rpc::stream_item::kind::timeout);
    s.cancel();
    auto third = co_await s.next(50ms);
    CHECK(third.what == rpc::stream_item::kind::error);
    CHECK(third.st.code == v1::CANCELLED);
}

// early_calls: connect() returns before the server's Hello; calls sent right behind the client's
// own Hello are answered as usual (the server reads that Hello first).
net::awaitable<void> calls_before_server_hello(loopback& lb) {
    rpc::channel_options o;
    o.early_calls = true;
    for (int i = 0; i < 20; ++i) {
        auto c = co_await lb.connect_with(o);
        auto s = co_await c.open_stream("Bench.Stream", stream_request(3, false));
        auto r = co_await c.unary("Bench.Echo", echo_request("early"), 5s);
        CHECK(r.st.ok());
        int tokens = 0;
        for (auto item = co_await s.next(5s); item.what == rpc::stream_item::kind::message;
             item = co_await s.next(5s)) {
            ++tokens;
        }
        CHECK(tokens == 3);
        CHECK(c.is_open());
        c.close();
    }
}

}  // namespace

TEST_CASE("client: calls sent before the server's Hello (early_calls) are answered",
          "[rpc][integration]") {
    loopback lb;
    lb.srv->start();
    run_coro(lb.ioc, calls_before_server_hello(lb));
}

TEST_CASE("client: a unary deadline cancels the call on the server", "[rpc][integration]") {
    loopback lb;
    int cancelled = 0;
    lb.srv->add_unary("Test.Never", [&cancelled](rpc::call_context& ctx, std::string req) {
        return never_answers(&cancelled, ctx, std::move(req));
    });
    lb.srv->start();
    run_coro(lb.ioc, deadline_cancels_call(lb, cancelled));
}

TEST_CASE("client: connecting to a closed port fails with a readable error", "[rpc][integration]") {
    asio::io_context ioc{1};
    const auto port = free_port();
    std::string error;
    run_coro(ioc, refused(ioc, port, &error));
    CHECK_THAT(error, Catch::Contains("refused"));
}

TEST_CASE("client: streams end with UNAVAILABLE when the server goes away", "[rpc][integration]") {
    loopback lb;
    lb.srv->start();
    run_coro(lb.ioc, lost_connection(lb));
}

TEST_CASE("client: next() times out on a quiet stream and reports a local cancel",
          "[rpc][integration]") {
    loopback lb;
    lb.srv->start();
    run_coro(lb.ioc, idle_timeout_item(lb));
}

}  // namespace rpcnetd::test
