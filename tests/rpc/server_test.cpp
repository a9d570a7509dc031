// Loopback integration tests of rpc::server + rpc::channel over real TLS on 127.0.0.1.
#include "rpc/loopback.hpp"

#include "net/task_group.hpp"

#include <vector>

namespace rpcnetd::test {
namespace {

// Issues `calls` echo calls one after another, each with a distinct payload.
net::awaitable<void> echo_worker(rpc::channel c, int worker, int calls, int* ok) {
    for (int i = 0; i < calls; ++i) {
        const std::string payload = "w" + std::to_string(worker) + "-" + std::to_string(i);
        auto r = co_await c.unary("Bench.Echo", echo_request(payload), 10s);
        v1::EchoMsg m;
        if (r.st.ok() && m.ParseFromString(r.response) && m.payload() == payload) {
            ++*ok;
        }
    }
}

net::awaitable<void> many_unary(loopback& lb) {
    auto c = co_await lb.connect();
    int ok = 0;
    net::task_group g(lb.ioc.get_executor());
    for (int w = 0; w < 16; ++w) {
        g.spawn(echo_worker(c, w, 625, &ok));
    }
    co_await g.wait();
    CHECK(ok == 10000);
    CHECK(c.open_streams() == 0);
}

// Reads a whole Bench.Stream, checking every sequence number in order.
net::awaitable<void> read_tokens(rpc::channel c, std::uint32_t count, int* complete) {
    auto s = co_await c.open_stream("Bench.Stream", stream_request(count));
    std::uint32_t seq = 0;
    v1::BenchToken tok;
    for (;;) {
        auto item = co_await s.next(10s);
        if (item.what != rpc::stream_item::kind::message) {
            if (item.what == rpc::stream_item::kind::finished && item.st.ok() && seq == count) {
                ++*complete;
            } else {
                FAIL_CHECK("stream ended early seq=" << seq << " status=" << item.st.to_string());
            }
            co_return;
        }
        if (!tok.ParseFromString(item.message) || tok.token() != app::bench_token(seq)) {
            FAIL_CHECK("token out of order at seq=" << seq);
            co_return;
        }
        ++seq;
    }
}

net::awaitable<void> one_big_stream(loopback& lb) {
    auto c = co_await lb.connect();
    int complete = 0;
    co_await read_tokens(c, 100000, &complete);
    CHECK(complete == 1);
}

net::awaitable<void> concurrent_streams(loopback& lb) {
    auto c = co_await lb.connect();
    int complete = 0;
    net::task_group g(lb.ioc.get_executor());
    for (int i = 0; i < 64; ++i) {
        g.spawn(read_tokens(c, 2000, &complete));
    }
    co_await g.wait();
    CHECK(complete == 64);
}

}  // namespace

TEST_CASE("rpc: 10,000 unary echo calls on one connection are all answered correctly",
          "[rpc][integration]") {
    loopback lb;
    lb.srv->start();
    run_coro(lb.ioc, many_unary(lb));
}

TEST_CASE("rpc: a 100,000-token stream arrives complete and in order", "[rpc][integration]") {
    loopback lb;
    lb.srv->start();
    run_coro(lb.ioc, one_big_stream(lb));
}

TEST_CASE("rpc: 64 concurrent streams on one connection", "[rpc][integration]") {
    loopback lb;
    lb.srv->start();
    run_coro(lb.ioc, concurrent_streams(lb));
}

// ---- cancellation ---------------------------------------------------------------------------

namespace {

struct ticker_state {
    int started = 0;
    int ended = 0;
    std::uint64_t written = 0;
};

// Writes a token every millisecond until cancelled; records when it ends.
net::awaitable<rpc::status> ticker(ticker_state* st, rpc::call_context& ctx, std::string request,
                                   rpc::stream_writer& out) {
    (void)request;
    (void)ctx;
    ++st->started;
    struct on_exit {
        ticker_state* s;
        ~on_exit() { ++s->ended; }
    } guard{st};
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (std::uint64_t seq = 0;; ++seq) {
        if (co_await out.write(app::bench_token(seq))) {
            co_return rpc::status{v1::CANCELLED};
        }
        ++st->written;
        t.expires_after(1ms);
        co_await t.async_wait(net::use_awaitable);  // throws once the call is cancelled
    }
}

net::awaitable<void> cancel_stops_handler(loopback& lb, ticker_state& st) {
    auto c = co_await lb.connect();
    auto s = co_await c.open_stream("Test.Ticker", "");
    for (int i = 0; i < 5; ++i) {
        auto item = co_await s.next(10s);
        REQUIRE(item.what == rpc::stream_item::kind::message);
    }
    CHECK(st.started == 1);
    CHECK(st.ended == 0);
    s.cancel();
    CHECK(co_await eventually([&] { return st.ended == 1; }));
    CHECK(co_await eventually([&] { return lb.srv->active_streams() == 0; }));
    const auto written = st.written;
    auto item = co_await s.next(1s);
    CHECK(item.what == rpc::stream_item::kind::error);
    CHECK(item.st.code == v1::CANCELLED);
    // The handler really stopped: nothing more is produced.
    asio::steady_timer t(co_await asio::this_coro::executor, 50ms);
    co_await t.async_wait(net::use_tuple);
    CHECK(st.written == written);
}

}  // namespace

TEST_CASE("rpc: cancelling a stream ends the server handler", "[rpc][integration]") {
    loopback lb;
    ticker_state st;
    lb.srv->add_stream("Test.Ticker",
                       [&st](rpc::call_context& ctx, std::string req, rpc::stream_writer& out) {
                           return ticker(&st, ctx, std::move(req), out);
                       });
    lb.srv->start();
    run_coro(lb.ioc, cancel_stops_handler(lb, st));
}

// ---- limits and shutdown -----------------------------------------------------------------------

namespace {

net::awaitable<void> over_stream_limit(loopback& lb) {
    auto c = co_await lb.connect();
    std::vector<rpc::client_stream> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(co_await c.open_stream("Bench.Stream", stream_request(1, true)));
        auto item = co_await held.back().next(10s);
        REQUIRE(item.what == rpc::stream_item::kind::message);
    }
    auto extra = co_await c.open_stream("Bench.Stream", stream_request(1, true));
    auto item = co_await extra.next(10s);
    REQUIRE(item.what == rpc::stream_item::kind::finished);
    CHECK(item.st.code == v1::RESOURCE_EXHAUSTED);
    CHECK_THAT(item.st.message, Catch::Contains("stream limit of 4"));
    // The held streams are unaffected, and freeing one makes room again.
    held.front().cancel();
    CHECK(co_await eventually([&] { return lb.srv->active_streams() == 3; }));
    auto again = co_await c.unary("Bench.Echo", echo_request("x"), 10s);
    CHECK(again.st.ok());
}

net::awaitable<rpc::status> slow_stream(int tokens, rpc::call_context& ctx, std::string request,
                                        rpc::stream_writer& out, int* finished) {
    (void)ctx;
    (void)request;
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (int i = 0; i < tokens; ++i) {
        t.expires_after(2ms);
        co_await t.async_wait(net::use_awaitable);
        if (co_await out.write(app::bench_token(static_cast<std::uint64_t>(i)))) {
            co_return rpc::status{v1::CANCELLED};
        }
    }
    ++*finished;
    co_return rpc::status{};
}

net::awaitable<void> stop_server(rpc::server& srv, bool* stopped) {
    co_await srv.stop(10s);
    *stopped = true;
}

net::awaitable<void> drain_lets_stream_finish(loopback& lb, int& finished) {
    auto c = co_await lb.connect();
    auto s = co_await c.open_stream("Test.Slow", "");
    auto first = co_await s.next(10s);
    REQUIRE(first.what == rpc::stream_item::kind::message);
    bool stopped = false;
    net::task_group g(lb.ioc.get_executor());
    g.spawn(stop_server(*lb.srv, &stopped));
    int got = 1;
    for (;;) {
        auto item = co_await s.next(10s);
        if (item.what != rpc::stream_item::kind::message) {
            CHECK(item.what == rpc::stream_item::kind::finished);
            CHECK(item.st.ok());
            break;
        }
        ++got;
    }
    CHECK(got == 100);
    CHECK(finished == 1);
    // After GOAWAY new calls are refused with a readable status.
    auto late = co_await c.unary("Bench.Echo", echo_request("late"), 5s);
    CHECK(late.st.code == v1::UNAVAILABLE);
    co_await g.wait();
    CHECK(stopped);
    CHECK(lb.srv->connection_count() == 0);
}

net::awaitable<void> accepting_toggle(loopback& lb) {
    auto c = co_await lb.connect();
    lb.srv->set_accepting(false);
    auto r = co_await c.unary("Bench.Echo", echo_request("a"), 5s);
    CHECK(r.st.code == v1::UNAVAILABLE);
    lb.srv->set_accepting(true);
    auto r2 = co_await c.unary("Bench.Echo", echo_request("b"), 5s);
    CHECK(r2.st.ok());
    auto r3 = co_await c.unary("No.Such", "", 5s);
    CHECK(r3.st.code == v1::UNIMPLEMENTED);
}

}  // namespace

TEST_CASE("rpc: a stream over the per-connection limit is refused with RESOURCE_EXHAUSTED",
          "[rpc][integration]") {
    rpc::limits lim;
    lim.max_streams_per_connection = 4;
    loopback lb(lim);
    lb.srv->start();
    run_coro(lb.ioc, over_stream_limit(lb));
}

TEST_CASE("rpc: stop() sends GOAWAY and lets a running stream finish", "[rpc][integration]") {
    loopback lb;
    int finished = 0;
    lb.srv->add_stream(
        "Test.Slow", [&finished](rpc::call_context& ctx, std::string req, rpc::stream_writer& out) {
            return slow_stream(100, ctx, std::move(req), out, &finished);
        });
    lb.srv->start();
    run_coro(lb.ioc, drain_lets_stream_finish(lb, finished));
}

TEST_CASE("rpc: set_accepting(false) refuses new calls with UNAVAILABLE", "[rpc][integration]") {
    loopback lb;
    lb.srv->start();
    run_coro(lb.ioc, accepting_toggle(lb));
}

}  // namespace rpcnetd::test
