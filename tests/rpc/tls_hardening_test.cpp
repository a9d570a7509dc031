// Issue #5 item 1 in process: mTLS with roles from the certificate OU, refusal of missing,
// foreign, expired and not-yet-valid certificates, server-name checks, TLS 1.2 and plain TCP
// refused within the handshake timeout, and a TLS context swap that leaves live streams alone.
#include "mtls_fixture.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

using namespace rpcnetd;
using namespace rpcnetd::test;

namespace {

net::awaitable<boost::system::result<rpc::channel>> try_connect(common::endpoint target,
                                                                rpc::tls_config tls) {
    rpc::channel_options o;
    o.tls = tls;
    o.connect_timeout = 5s;
    co_return co_await rpc::channel::connect(co_await asio::this_coro::executor, target,
                                             rpc::tls_context::make_client(tls), o);
}

net::awaitable<void> refused(mtls_loopback* lb, rpc::tls_config tls) {
    auto r = co_await try_connect(lb->target(), tls);
    CHECK_FALSE(r.has_value());
}

net::awaitable<void> call_method(mtls_loopback* lb, rpc::tls_config tls, std::string method,
                                 rpc::status* out) {
    auto r = co_await try_connect(lb->target(), tls);
    REQUIRE(r.has_value());
    rpc::channel c = *r;
    auto res = co_await c.unary(method, {}, 5s);
    *out = res.st;
    c.close();
}

net::awaitable<void> call_health(mtls_loopback* lb, rpc::tls_config tls, rpc::status* out) {
    auto r = co_await try_connect(lb->target(), tls);
    REQUIRE(r.has_value());
    rpc::channel c = *r;
    auto res = co_await c.unary("Worker.Health", {}, 5s);
    *out = res.st;
    c.close();
}

// Handshake with a client context that skips our own start-up checks; true when TLS came up
// and the server then answered our Hello (i.e. accepted us).
net::awaitable<void> raw_refused(mtls_loopback* lb, std::shared_ptr<asio::ssl::context> ctx,
                                 common::duration* took) {
    const auto start = common::clock::now();
    try {
        auto s = co_await raw_connect(lb->tcp_target(), ctx, true);
        // TLS 1.3: the client's handshake completes before the server checks the client
        // certificate; the refusal arrives as an alert on the first read.
        auto out = co_await read_until_closed(*s, 20s);
        CHECK(out.closed);
    } catch (const std::exception&) {
        // refused during the handshake
    }
    *took = common::clock::now() - start;
}

net::awaitable<void> peer_serial(mtls_loopback* lb, long* serial) {
    auto s = co_await raw_connect(lb->tcp_target(), raw_client_ctx(&pki().worker), false);
    X509* cert = SSL_get0_peer_certificate(s->native_handle());
    REQUIRE(cert != nullptr);
    *serial = ASN1_INTEGER_get(X509_get0_serialNumber(cert));
    net::error_code ignored;
    s->lowest_layer().close(ignored);
}

net::awaitable<void> reload_keeps_live_stream(mtls_loopback* lb) {
    auto r = co_await try_connect(lb->target(), identity(pki().worker));
    REQUIRE(r.has_value());
    rpc::channel c = *r;
    auto stream = co_await c.open_stream("Bench.Stream", stream_request(0, true));
    long before = 0;
    co_await peer_serial(lb, &before);
    CHECK(before == pki().server.serial);

    rpc::tls_config next = identity(pki().server2);
    next.require_client_cert = true;
    lb->srv->set_tls_context(rpc::tls_context::make_server(next));

    long after = 0;
    co_await peer_serial(lb, &after);
    CHECK(after == pki().server2.serial);
    // The connection made before the swap still carries calls and its open stream.
    auto res = co_await c.unary("Bench.Echo", echo_request("still here"), 5s);
    CHECK(res.st.ok());
    CHECK(c.is_open());
    CHECK(lb->srv->active_streams() == 1);  // the held stream survived the swap
    stream.cancel();
    c.close();
    CHECK(lb->srv->counters().reloads == 1);
}

}  // namespace

TEST_CASE("tls: client without a certificate is refused by --require-client-cert, no handler runs",
          "[tls]") {
    mtls_loopback lb(true);
    rpc::tls_config anon;
    anon.cert_file = "";
    anon.key_file = "";
    anon.ca_file = pki().ca.ca_file();
    run_coro(lb.ioc, refused(&lb, anon));
    CHECK(lb.handler_runs == 0);
    CHECK(lb.srv->counters().tls_handshake_failures >= 1);
}

TEST_CASE("tls: a client certificate from a foreign CA is refused", "[tls]") {
    mtls_loopback lb(true);
    run_coro(lb.ioc, refused(&lb, identity(pki().foreign_client)));
    CHECK(lb.handler_runs == 0);
    SECTION("and a client trusting only the foreign CA refuses the server") {
        run_coro(lb.ioc, refused(&lb, identity(pki().client, pki().foreign.ca_file())));
    }
}

TEST_CASE("tls: expired and not-yet-valid certificates", "[tls]") {
    SECTION("refused as our own certificate at start-up, with the reason") {
        rpc::tls_config t = identity(pki().expired);
        try {
            rpc::tls_context::make_server(t);
            FAIL("expired certificate accepted");
        } catch (const usage_error& e) {
            CHECK_THAT(e.what(), Catch::Matchers::Contains("expired"));
        }
        t = identity(pki().not_yet);
        try {
            rpc::tls_context::make_client(t);
            FAIL("not-yet-valid certificate accepted");
        } catch (const usage_error& e) {
            CHECK_THAT(e.what(), Catch::Matchers::Contains("not valid before"));
        }
    }
    SECTION("refused as a peer certificate") {
        mtls_loopback lb(true);
        common::duration took{};
        run_coro(lb.ioc, raw_refused(&lb, raw_client_ctx(&pki().expired), &took));
        run_coro(lb.ioc, raw_refused(&lb, raw_client_ctx(&pki().not_yet), &took));
        CHECK(lb.handler_runs == 0);
        CHECK(lb.srv->counters().tls_handshake_failures == 2);
    }
}

TEST_CASE("tls: a server certificate without the expected name is refused", "[tls]") {
    mtls_loopback lb(true);
    rpc::tls_config t = identity(pki().client);
    t.server_name = "not-this-server.example";
    run_coro(lb.ioc, refused(&lb, t));
    t.server_name = "localhost";
    rpc::status st;
    run_coro(lb.ioc, call_health(&lb, identity(pki().director), &st));
    CHECK(st.ok());
}

TEST_CASE("tls: the certificate role decides which methods a peer may call", "[tls]") {
    SECTION("with --require-client-cert") {
        mtls_loopback lb(true);
        rpc::status st;
        run_coro(lb.ioc, call_health(&lb, identity(pki().client), &st));
        CHECK(st.code == v1::PERMISSION_DENIED);
        CHECK_THAT(st.message, Catch::Matchers::Contains("client"));
        run_coro(lb.ioc, call_health(&lb, identity(pki().worker), &st));
        CHECK(st.code == v1::PERMISSION_DENIED);
        run_coro(lb.ioc, call_health(&lb, identity(pki().no_role), &st));
        CHECK(st.code == v1::PERMISSION_DENIED);
        CHECK(lb.handler_runs == 0);
        CHECK(lb.srv->counters().permission_denied == 3);

        run_coro(lb.ioc, call_health(&lb, identity(pki().director), &st));
        CHECK(st.ok());
        CHECK(lb.handler_runs == 1);
        CHECK(lb.last_role == "director");

        // A whole service by wildcard ("Keys.*"); unlisted methods take any authenticated peer.
        run_coro(lb.ioc, call_method(&lb, identity(pki().client), "Keys.List", &st));
        CHECK(st.code == v1::PERMISSION_DENIED);
        run_coro(lb.ioc, call_method(&lb, identity(pki().worker), "Keys.List", &st));
        CHECK(st.ok());
        run_coro(lb.ioc, call_method(&lb, identity(pki().client), "Bench.Echo", &st));
        CHECK(st.ok());
        CHECK(lb.handler_runs == 2);
    }
    SECTION("without it everything stays open") {
        mtls_loopback lb(false);
        rpc::status st;
        run_coro(lb.ioc, call_health(&lb, identity(pki().client), &st));
        CHECK(st.ok());
        CHECK(lb.handler_runs == 1);
        CHECK(lb.last_role.empty());
    }
}

TEST_CASE("tls: TLS 1.2 and plain TCP are closed within the handshake timeout", "[tls]") {
    rpc::limits lim;
    lim.handshake_timeout = 1500ms;
    mtls_loopback lb(false, lim);
    common::duration took{};
    run_coro(lb.ioc, raw_refused(&lb, raw_client_ctx(nullptr, TLS1_2_VERSION), &took));
    CHECK(took < lim.handshake_timeout);
    CHECK(lb.srv->counters().tls_handshake_failures == 1);

    run_coro(
        lb.ioc,
        [](mtls_loopback* l, common::duration* out) -> net::awaitable<void> {
            net::tcp::socket sock(co_await asio::this_coro::executor);
            co_await sock.async_connect(l->tcp_target(), net::use_awaitable);
            const auto start = common::clock::now();
            // Silent plain TCP: only the handshake timeout can close it.
            std::array<char, 64> buf{};
            auto [ec, n] = co_await sock.async_read_some(asio::buffer(buf), net::use_tuple);
            CHECK(ec);
            *out = common::clock::now() - start;
        }(&lb, &took),
        30s);
    CHECK(took >= lim.handshake_timeout - 100ms);
    CHECK(took < 2 * lim.handshake_timeout);
    CHECK(lb.srv->counters().handshake_timeouts == 1);
}

TEST_CASE("tls: a context swap serves new connections with the new certificate, live streams "
          "continue",
          "[tls]") {
    mtls_loopback lb(true);
    run_coro(lb.ioc, reload_keeps_live_stream(&lb));
    SECTION("a broken pair is refused by make_server") {
        rpc::tls_config bad = identity(pki().server2);
        bad.key_file = pki().server.key;  // mismatched
        CHECK_THROWS_AS(rpc::tls_context::make_server(bad), usage_error);
        bad.key_file = pki().dir + "/missing.key";
        CHECK_THROWS_AS(rpc::tls_context::make_server(bad), usage_error);
    }
}
