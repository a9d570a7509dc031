// Issue #5 item 3 in process: every exceeded limit closes only the offending connection or
// stream, tells the peer why (GOAWAY reason or END status), and increments its counter; a real
// client keeps working meanwhile.
#include "mtls_fixture.hpp"

#include "rpc/ping_strikes.hpp"

using namespace rpcnetd;
using namespace rpcnetd::test;

namespace {

struct stalled_result {
    std::vector<common::duration> closed_after;  // per connection; max() = not closed
};

// One connection that never starts TLS: records when the server closes it.
net::awaitable<void> stall_one(net::tcp::endpoint ep, std::shared_ptr<stalled_result> out,
                               std::size_t i) {
    net::tcp::socket sock(co_await asio::this_coro::executor);
    auto [cerr] = co_await sock.async_connect(ep, net::use_tuple);
    if (cerr) {
        co_return;
    }
    const auto start = common::clock::now();
    std::array<char, 16> buf{};
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), net::use_tuple);
    (void)n;
    out->closed_after[i] = common::clock::now() - start;
}

net::awaitable<void> stalled_handshakes(mtls_loopback* lb, std::shared_ptr<stalled_result> out,
                                        int* calls_ok) {
    auto ex = co_await asio::this_coro::executor;
    for (std::size_t i = 0; i < out->closed_after.size(); ++i) {
        asio::co_spawn(ex, stall_one(lb->tcp_target(), out, i), asio::detached);
    }
    rpc::channel_options o;
    o.tls = identity(pki().client);
    auto r =
        co_await rpc::channel::connect(ex, lb->target(), rpc::tls_context::make_client(o.tls), o);
    REQUIRE(r.has_value());
    rpc::channel c = *r;
    // A real client keeps completing calls while the 200 stalled connections wait.
    for (int i = 0; i < 200; ++i) {
        auto res = co_await c.unary("Bench.Echo", echo_request("x"), 5s);
        if (res.st.ok()) {
            ++*calls_ok;
        }
    }
    c.close();
    co_await eventually(
        [&] {
            return std::all_of(out->closed_after.begin(), out->closed_after.end(),
                               [](auto d) { return d != common::duration::max(); });
        },
        30s);
}

net::awaitable<void> oversized_frame(mtls_loopback* lb, peer_outcome* bad, int* calls_ok) {
    auto ex = co_await asio::this_coro::executor;
    rpc::channel_options o;
    o.tls = identity(pki().client);
    auto r =
        co_await rpc::channel::connect(ex, lb->target(), rpc::tls_context::make_client(o.tls), o);
    REQUIRE(r.has_value());
    rpc::channel good = *r;

    auto s = co_await raw_connect(lb->tcp_target(), raw_client_ctx(&pki().client), true);
    std::array<std::uint8_t, rpc::frame_header_size> hdr{};
    rpc::encode_header({1U << 30, 1, rpc::frame_type::call, 0}, hdr);
    co_await asio::async_write(*s, asio::buffer(hdr), net::use_awaitable);
    *bad = co_await read_until_closed(*s, 20s);

    auto res = co_await good.unary("Bench.Echo", echo_request("after"), 5s);
    *calls_ok = res.st.ok() ? 1 : 0;
    good.close();
}

net::awaitable<void> ping_flood(mtls_loopback* lb, peer_outcome* out) {
    auto s = co_await raw_connect(lb->tcp_target(), raw_client_ctx(&pki().client), true);
    std::string pings;
    for (int i = 0; i < 500; ++i) {
        rpc::append_frame(pings, rpc::frame_type::ping, 0, "flooding");
    }
    co_await asio::async_write(*s, asio::buffer(pings), net::use_awaitable);
    *out = co_await read_until_closed(*s, 20s);
}

// Pings with large bodies, written as fast as the server takes them, and no pong ever read: the
// server's answers pile up in its outbound queue until the bound closes the connection.
net::awaitable<void> unread_answers(mtls_loopback* lb, peer_outcome* out, int* calls_ok) {
    auto ex = co_await asio::this_coro::executor;
    auto s = co_await raw_connect(lb->tcp_target(), raw_client_ctx(&pki().client), true);
    std::string pings;
    const std::string body(60 * 1024, 'p');
    for (int i = 0; i < 16; ++i) {
        rpc::append_frame(pings, rpc::frame_type::ping, 0, body);
    }
    // At most 256 MiB: far beyond socket buffers plus the queue bound; the server closes first.
    for (int i = 0; i < 256; ++i) {
        auto [ec, n] = co_await asio::async_write(*s, asio::buffer(pings), net::use_tuple);
        (void)n;
        if (ec) {
            break;
        }
    }
    *out = co_await read_until_closed(*s, 20s);

    rpc::channel_options o;
    o.tls = identity(pki().client);
    auto r =
        co_await rpc::channel::connect(ex, lb->target(), rpc::tls_context::make_client(o.tls), o);
    REQUIRE(r.has_value());
    auto res = co_await r->unary("Bench.Echo", echo_request("after"), 5s);
    *calls_ok = res.st.ok() ? 1 : 0;
    r->close();
}

net::awaitable<void> silent_after(mtls_loopback* lb, bool hello, peer_outcome* out) {
    auto s = co_await raw_connect(lb->tcp_target(), raw_client_ctx(&pki().client), hello);
    *out = co_await read_until_closed(*s, 20s);
}

net::awaitable<void> streams_over_limit(mtls_loopback* lb, rpc::status* third, rpc::status* after) {
    auto ex = co_await asio::this_coro::executor;
    rpc::channel_options o;
    o.tls = identity(pki().client);
    auto r =
        co_await rpc::channel::connect(ex, lb->target(), rpc::tls_context::make_client(o.tls), o);
    REQUIRE(r.has_value());
    rpc::channel c = *r;
    auto s1 = co_await c.open_stream("Bench.Stream", stream_request(1, true));
    auto s2 = co_await c.open_stream("Bench.Stream", stream_request(1, true));
    REQUIRE(co_await eventually([&] { return lb->srv->active_streams() == 2; }, 10s));
    auto s3 = co_await c.open_stream("Bench.Stream", stream_request(1, true));
    auto end = co_await s3.next(5s);
    *third = end.st;
    // Only that stream was refused: the others and the connection go on.
    CHECK(c.is_open());
    s1.cancel();
    co_await eventually([&] { return lb->srv->active_streams() < 2; }, 10s);
    auto res = co_await c.unary("Bench.Echo", echo_request("x"), 5s);
    *after = res.st;
    s2.cancel();
    c.close();
}

net::awaitable<void> connection_limit(mtls_loopback* lb, bool* second_refused) {
    auto ex = co_await asio::this_coro::executor;
    rpc::channel_options o;
    o.tls = identity(pki().client);
    o.connect_timeout = 5s;
    auto ctx = rpc::tls_context::make_client(o.tls);
    auto first = co_await rpc::channel::connect(ex, lb->target(), ctx, o);
    REQUIRE(first.has_value());
    auto second = co_await rpc::channel::connect(ex, lb->target(), ctx, o);
    *second_refused = !second.has_value();
    auto res = co_await first->unary("Bench.Echo", echo_request("x"), 5s);
    CHECK(res.st.ok());
    first->close();
}

// Opens a held stream with `request`: kept in `held` once it runs; its END status when the server
// refused it at once.
net::awaitable<std::optional<rpc::status>> open_held(mtls_loopback* lb, rpc::channel* c,
                                                     const std::string* request,
                                                     std::vector<rpc::client_stream>* held) {
    const auto before = lb->srv->active_streams();
    const auto refused_before = lb->srv->counters().request_budget_refusals;
    auto s = co_await c->open_stream("Bench.Stream", *request);
    co_await eventually(
        [&] {
            return lb->srv->active_streams() > before ||
                   lb->srv->counters().request_budget_refusals > refused_before;
        },
        20s);
    if (lb->srv->active_streams() > before) {
        held->push_back(std::move(s));
        co_return std::nullopt;
    }
    co_return (co_await s.next(10s)).st;
}

net::awaitable<void> request_budget(mtls_loopback* lb, std::vector<rpc::status>* refusals,
                                    rpc::status* small_call, rpc::status* after_release) {
    auto ex = co_await asio::this_coro::executor;
    rpc::channel_options o;
    o.tls = identity(pki().client);
    auto ctx = rpc::tls_context::make_client(o.tls);
    auto ra = co_await rpc::channel::connect(ex, lb->target(), ctx, o);
    auto rb = co_await rpc::channel::connect(ex, lb->target(), ctx, o);
    REQUIRE(ra.has_value());
    REQUIRE(rb.has_value());
    rpc::channel a = *ra;
    rpc::channel b = *rb;
    const std::string big = padded_hold_request(3U << 20U);
    std::vector<rpc::client_stream> held;
    const auto open = [&](rpc::channel& c) { return open_held(lb, &c, &big, &held); };
    // Connection a: five 3 MiB requests fit its 16 MiB, the sixth does not.
    // (Each co_await outside the CHECK: GCC 12 evaluates a co_await inside Catch's macro twice.)
    for (int i = 0; i < 5; ++i) {
        const auto r = co_await open(a);
        CHECK_FALSE(r.has_value());
    }
    auto refused = co_await open(a);
    REQUIRE(refused);
    refusals->push_back(*refused);
    // Connection b: the server's 25 MiB hold 15 MiB already; three more fit, the fourth not.
    for (int i = 0; i < 3; ++i) {
        const auto r = co_await open(b);
        CHECK_FALSE(r.has_value());
    }
    refused = co_await open(b);
    REQUIRE(refused);
    refusals->push_back(*refused);
    // Small calls are still served, on both connections.
    *small_call = (co_await b.unary("Bench.Echo", echo_request("x"), 10s)).st;
    const auto echo_a = co_await a.unary("Bench.Echo", echo_request("y"), 10s);
    CHECK(echo_a.st.ok());
    // Finished calls give their bytes back.
    for (std::size_t i = 0; i < 5; ++i) {
        held[i].cancel();
    }
    co_await eventually([&] { return lb->srv->active_streams() <= 3; }, 20s);
    *after_release = (co_await open(b)).value_or(rpc::status{});
    for (auto& s : held) {
        s.cancel();
    }
    a.close();
    b.close();
}

}  // namespace

TEST_CASE("limits: request bytes held by running calls are budgeted per connection and server",
          "[limits]") {
    rpc::limits lim;
    lim.max_request_bytes_per_connection = 16U << 20U;
    lim.max_request_bytes = 25U << 20U;
    mtls_loopback lb(true, lim);
    std::vector<rpc::status> refusals;
    rpc::status small_call{v1::UNKNOWN, "not run"};
    rpc::status after_release{v1::UNKNOWN, "not run"};
    run_coro(lb.ioc, request_budget(&lb, &refusals, &small_call, &after_release), 120s);
    REQUIRE(refusals.size() == 2);
    CHECK(refusals[0].code == v1::RESOURCE_EXHAUSTED);
    CHECK_THAT(refusals[0].message, Catch::Matchers::Contains("per connection"));
    CHECK(refusals[1].code == v1::RESOURCE_EXHAUSTED);
    CHECK_THAT(refusals[1].message, Catch::Matchers::Contains("server request memory budget"));
    CHECK(small_call.ok());
    CHECK(after_release.ok());
    CHECK(lb.srv->counters().request_budget_refusals == 2);
}

TEST_CASE("ping_strikes: a flood strikes out, keep-alive pings never do", "[limits]") {
    const common::time_point t0{};
    {
        rpc::ping_strikes p(10ms, 3);
        CHECK_FALSE(p.on_ping(t0));
        CHECK_FALSE(p.on_ping(t0 + 1ms));
        CHECK_FALSE(p.on_ping(t0 + 2ms));
        CHECK(p.on_ping(t0 + 3ms));
        CHECK(p.strikes() == 3);
    }
    rpc::ping_strikes honest(10ms, 3);
    for (int i = 0; i < 1000; ++i) {
        CHECK_FALSE(honest.on_ping(t0 + i * 10s));
    }
    rpc::ping_strikes off(10ms, 0);
    for (int i = 0; i < 100; ++i) {
        CHECK_FALSE(off.on_ping(t0));
    }
}

TEST_CASE("limits: 200 stalled handshakes are each closed within 2x the handshake timeout while "
          "a real client completes calls",
          "[limits]") {
    rpc::limits lim;
    lim.handshake_timeout = 2s;
    mtls_loopback lb(true, lim);
    auto out = std::make_shared<stalled_result>();
    out->closed_after.assign(200, common::duration::max());
    int calls_ok = 0;
    run_coro(lb.ioc, stalled_handshakes(&lb, out, &calls_ok), 60s);
    CHECK(calls_ok == 200);
    const auto worst = *std::max_element(out->closed_after.begin(), out->closed_after.end());
    INFO("slowest close " << std::chrono::duration_cast<std::chrono::milliseconds>(worst).count()
                          << " ms");
    CHECK(worst < 2 * lim.handshake_timeout);
    CHECK(lb.srv->counters().handshake_timeouts == 200);
}

TEST_CASE("limits: a 1 GiB frame header closes only that connection, with GOAWAY", "[limits]") {
    mtls_loopback lb(true);
    peer_outcome bad;
    int calls_ok = 0;
    run_coro(lb.ioc, oversized_frame(&lb, &bad, &calls_ok));
    CHECK(bad.closed);
    REQUIRE(bad.goaway_reason);
    CHECK(*bad.goaway_reason == "frame too large");
    CHECK(calls_ok == 1);
    CHECK(lb.srv->counters().frames_too_large == 1);
}

TEST_CASE("limits: a PING flood is closed with GOAWAY after the strikes", "[limits]") {
    rpc::limits lim;
    lim.max_ping_strikes = 50;
    mtls_loopback lb(true, lim);
    peer_outcome out;
    run_coro(lb.ioc, ping_flood(&lb, &out));
    CHECK(out.closed);
    REQUIRE(out.goaway_reason);
    CHECK(*out.goaway_reason == "too many pings");
    CHECK(lb.srv->counters().ping_abuse == 1);
}

TEST_CASE("limits: a peer that never reads its answers is closed at the outbound queue bound",
          "[limits]") {
    rpc::limits lim;
    lim.max_ping_strikes = 0;  // strikes off: only the queue bound can stop this peer
    lim.max_queued_bytes = 256U * 1024U;
    mtls_loopback lb(true, lim);
    peer_outcome out;
    int calls_ok = 0;
    run_coro(lb.ioc, unread_answers(&lb, &out, &calls_ok));
    CHECK(out.closed);
    CHECK(lb.srv->counters().queue_overflows == 1);
    CHECK(lb.srv->counters().ping_abuse == 0);
    // Only that connection: a new client is served.
    CHECK(calls_ok == 1);
}

TEST_CASE("limits: handshake and idle timeouts after TLS name themselves in GOAWAY", "[limits]") {
    rpc::limits lim;
    lim.handshake_timeout = 500ms;
    lim.idle_timeout = 500ms;
    lim.keepalive_interval = 0ms;  // the server must not keep the silent peer alive by pinging
    mtls_loopback lb(true, lim);
    peer_outcome out;
    run_coro(lb.ioc, silent_after(&lb, false, &out));
    CHECK(out.closed);
    REQUIRE(out.goaway_reason);
    CHECK(*out.goaway_reason == "handshake timeout");
    CHECK(lb.srv->counters().handshake_timeouts == 1);

    run_coro(lb.ioc, silent_after(&lb, true, &out));
    CHECK(out.closed);
    REQUIRE(out.goaway_reason);
    CHECK(*out.goaway_reason == "idle timeout");
    CHECK(lb.srv->counters().idle_timeouts == 1);
}

TEST_CASE("limits: a stream over the per-connection limit is refused with a readable status",
          "[limits]") {
    rpc::limits lim;
    lim.max_streams_per_connection = 2;
    mtls_loopback lb(true, lim);
    rpc::status third;
    rpc::status after;
    run_coro(lb.ioc, streams_over_limit(&lb, &third, &after));
    CHECK(third.code == v1::RESOURCE_EXHAUSTED);
    CHECK_THAT(third.message, Catch::Matchers::Contains("stream limit of 2"));
    CHECK(after.ok());
    CHECK(lb.srv->counters().streams_refused == 1);
}

TEST_CASE("limits: connections over max_connections are refused and counted", "[limits]") {
    rpc::limits lim;
    lim.max_connections = 1;
    mtls_loopback lb(true, lim);
    bool second_refused = false;
    run_coro(lb.ioc, connection_limit(&lb, &second_refused));
    CHECK(second_refused);
    CHECK(lb.srv->counters().connections_refused == 1);
}
