// TLS policy: the client verifies chain and name, bad files are reported by name, mTLS works.
#include "rpc/loopback.hpp"

#include "common/error.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace rpcnetd::test {
namespace {

net::awaitable<void> connect_expecting(loopback& lb, std::shared_ptr<asio::ssl::context> ssl,
                                       rpc::channel_options opts, bool expect_ok,
                                       std::string* error) {
    auto r = co_await rpc::channel::connect(lb.ioc.get_executor(), lb.target(), ssl, opts);
    CHECK(r.has_value() == expect_ok);
    if (!r) {
        *error = r.error().message();
    } else {
        auto res = co_await r->unary("Bench.Echo", echo_request("tls"), 5s);
        CHECK(res.st.ok());
    }
}

std::string write_file(const std::string& name, const std::string& content) {
    const std::string path = certs().dir + "/" + name;
    std::ofstream(path) << content;
    return path;
}

net::awaitable<void> check_negotiation(loopback& lb) {
    net::tcp::socket sock(lb.ioc.get_executor());
    co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), lb.target().port},
                                net::use_awaitable);
    rpc::tls_stream s(std::move(sock), *lb.client_ssl);
    REQUIRE_FALSE(rpc::tls_context::prepare_client(s, "127.0.0.1"));
    co_await s.async_handshake(asio::ssl::stream_base::client, net::use_awaitable);
    CHECK(std::string(SSL_get_version(s.native_handle())) == "TLSv1.3");
    CHECK(std::string(SSL_get_cipher_name(s.native_handle())) == "TLS_AES_256_GCM_SHA384");
    CHECK(SSL_get_negotiated_group(s.native_handle()) == NID_X25519);
}

// Connects with `ssl`, makes one call (the server's ticket arrives before its answer) and
// says whether the handshake resumed a session.
net::awaitable<void> connect_and_call(loopback& lb, common::endpoint target,
                                      std::shared_ptr<asio::ssl::context> ssl, bool* resumed) {
    auto r = co_await rpc::channel::connect(lb.ioc.get_executor(), target, ssl, {});
    REQUIRE(r.has_value());
    auto res = co_await r->unary("Bench.Echo", echo_request("again"), 5s);
    CHECK(res.st.ok());
    *resumed = r->resumed();
}

// A server with identity `id`; with `client_ca`, it demands client certificates signed by it
// and lets only the role "client" call Bench.Echo.
std::unique_ptr<rpc::server> extra_server(loopback& lb, const cert_pair& id,
                                          const std::string& client_ca = {}) {
    rpc::server_options so;
    so.listen = {"127.0.0.1", 0};
    so.tls.cert_file = id.cert;
    so.tls.key_file = id.key;
    so.tls.require_client_cert = !client_ca.empty();
    so.tls.ca_file = client_ca;
    auto srv = std::make_unique<rpc::server>(lb.ioc.get_executor(), so);
    app::register_bench_service(*srv, "extra");
    if (!client_ca.empty()) {
        srv->allow_roles("Bench.Echo", {"client"});
    }
    srv->start();
    return srv;
}

}  // namespace

TEST_CASE("tls: a client resumes its session on any server holding the same key, only there",
          "[rpc][integration]") {
    loopback lb;  // server A
    lb.srv->start();
    auto same_key = extra_server(lb, certs().server);  // B: its own context, the same key files
    auto other_key = extra_server(lb, certs().other);  // C: another key
    const common::endpoint b{"127.0.0.1", same_key->local_endpoint().port()};
    const common::endpoint c{"127.0.0.1", other_key->local_endpoint().port()};
    auto ca = client_tls(
        write_file("both-cas.pem", read_file(certs().server.cert) + read_file(certs().other.cert)));
    bool resumed = true;

    auto resuming = rpc::tls_context::make_client(ca);
    rpc::tls_context::enable_resumption(*resuming);
    run_coro(lb.ioc, connect_and_call(lb, lb.target(), resuming, &resumed));
    CHECK_FALSE(resumed);  // nothing to resume yet: a full handshake, and a ticket
    run_coro(lb.ioc, connect_and_call(lb, b, resuming, &resumed));
    CHECK(resumed);  // A's ticket opens on B
    run_coro(lb.ioc, connect_and_call(lb, c, resuming, &resumed));
    CHECK_FALSE(resumed);  // C cannot read it: a full handshake, which succeeds
    run_coro(lb.ioc, connect_and_call(lb, c, resuming, &resumed));
    CHECK(resumed);  // now holding C's ticket

    auto plain = rpc::tls_context::make_client(ca);  // the default (the bench's): never resumes
    for (int i = 0; i < 2; ++i) {
        run_coro(lb.ioc, connect_and_call(lb, lb.target(), plain, &resumed));
        CHECK_FALSE(resumed);
    }
    run_coro(lb.ioc, same_key->stop(1s), 10s);
    run_coro(lb.ioc, other_key->stop(1s), 10s);
}

// Servers that verify client certificates must share a session id context, or OpenSSL refuses
// the resumed handshake ("session id context uninitialized"); and the role in the client's
// certificate must survive: a resumed handshake carries no certificate.
TEST_CASE("tls: a client resumes under mutual TLS too, keeping its role", "[rpc][integration]") {
    loopback lb;
    const auto client_id = make_cert(certs().dir, "client-role", "/CN=client-a/OU=client");
    auto a = extra_server(lb, certs().server, client_id.cert);
    auto b = extra_server(lb, certs().server, client_id.cert);
    auto t = client_tls();
    t.cert_file = client_id.cert;
    t.key_file = client_id.key;
    auto ssl = rpc::tls_context::make_client(t);
    rpc::tls_context::enable_resumption(*ssl);
    bool resumed = true;
    run_coro(lb.ioc,
             connect_and_call(lb, {"127.0.0.1", a->local_endpoint().port()}, ssl, &resumed));
    CHECK_FALSE(resumed);
    // B sees no certificate on this handshake: the client's, and its role, come out of the
    // ticket (connect_and_call checks that Bench.Echo, allowed to "client" only, succeeds).
    run_coro(lb.ioc,
             connect_and_call(lb, {"127.0.0.1", b->local_endpoint().port()}, ssl, &resumed));
    CHECK(resumed);
    // C holds the same key but trusts another client CA file (this client's certificate and
    // one more): its full handshake accepts the client, but tickets issued under A's and B's CA
    // do not open there, so a server that changes its CA does not honour the old sessions.
    const auto bundle =
        write_file("client-cas.pem", read_file(client_id.cert) + read_file(certs().other.cert));
    auto c = extra_server(lb, certs().server, bundle);
    run_coro(lb.ioc,
             connect_and_call(lb, {"127.0.0.1", c->local_endpoint().port()}, ssl, &resumed));
    CHECK_FALSE(resumed);
    run_coro(lb.ioc, a->stop(1s), 10s);
    run_coro(lb.ioc, b->stop(1s), 10s);
    run_coro(lb.ioc, c->stop(1s), 10s);
}

TEST_CASE("tls: a client trusting another CA is refused", "[rpc][integration]") {
    loopback lb;
    lb.srv->start();
    std::string error;
    run_coro(lb.ioc,
             connect_expecting(lb, rpc::tls_context::make_client(client_tls(certs().other.cert)),
                               {}, false, &error));
    CHECK_THAT(error, Catch::Contains("certificate verify failed"));
}

TEST_CASE("tls: the server name is verified", "[rpc][integration]") {
    loopback lb;
    lb.srv->start();
    rpc::channel_options o;
    std::string error;
    SECTION("wrong DNS name") {
        o.tls.server_name = "not-the-server.example";
        run_coro(lb.ioc, connect_expecting(lb, lb.client_ssl, o, false, &error));
        CHECK_THAT(error, Catch::Contains("certificate verify failed"));
    }
    SECTION("wrong IP address") {
        o.tls.server_name = "127.0.0.2";
        run_coro(lb.ioc, connect_expecting(lb, lb.client_ssl, o, false, &error));
        CHECK_THAT(error, Catch::Contains("certificate verify failed"));
    }
    SECTION("right DNS name") {
        o.tls.server_name = "localhost";
        run_coro(lb.ioc, connect_expecting(lb, lb.client_ssl, o, true, &error));
    }
    SECTION("target IP (default)") {
        run_coro(lb.ioc, connect_expecting(lb, lb.client_ssl, o, true, &error));
    }
}

TEST_CASE("tls: TLS 1.3 with AES-256-GCM and X25519 is negotiated", "[rpc][integration]") {
    loopback lb;
    lb.srv->start();
    run_coro(lb.ioc, check_negotiation(lb));
}

TEST_CASE("tls: mutual TLS when the server requires client certificates", "[rpc][integration]") {
    rpc::server_options so;
    so.tls = server_tls();
    so.tls.require_client_cert = true;
    so.tls.ca_file = certs().server.cert;
    loopback lb;
    lb.srv = std::make_unique<rpc::server>(lb.ioc.get_executor(), so);
    app::register_bench_service(*lb.srv, "mtls");
    lb.srv->start();
    std::string error;
    SECTION("client without a certificate is refused") {
        run_coro(lb.ioc, connect_expecting(lb, lb.client_ssl, {}, false, &error));
        CHECK_FALSE(error.empty());
    }
    SECTION("client with a trusted certificate is served") {
        auto t = client_tls();
        t.cert_file = certs().server.cert;
        t.key_file = certs().server.key;
        run_coro(lb.ioc, connect_expecting(lb, rpc::tls_context::make_client(t), {}, true, &error));
    }
}

TEST_CASE("tls: unreadable or bad files are reported with their name", "[rpc]") {
    auto cfg = server_tls();
    SECTION("missing certificate") {
        cfg.cert_file = certs().dir + "/nope.crt";
        CHECK_THROWS_WITH(rpc::tls_context::make_server(cfg), Catch::Contains("nope.crt"));
    }
    SECTION("garbage certificate") {
        cfg.cert_file = write_file("garbage.crt", "not a certificate\n");
        CHECK_THROWS_AS(rpc::tls_context::make_server(cfg), usage_error);
        CHECK_THROWS_WITH(rpc::tls_context::make_server(cfg), Catch::Contains("garbage.crt"));
    }
    SECTION("key of another certificate") {
        cfg.key_file = certs().other.key;
        CHECK_THROWS_WITH(rpc::tls_context::make_server(cfg), Catch::Contains("other.key"));
    }
    SECTION("missing CA on a client") {
        CHECK_THROWS_WITH(rpc::tls_context::make_client(client_tls(certs().dir + "/noca.pem")),
                          Catch::Contains("noca.pem"));
    }
}

TEST_CASE("tls: a private key that group or others can read is refused, except the dev pair",
          "[rpc]") {
    const auto copy = [](const std::string& from, const std::string& name, unsigned mode) {
        std::ifstream in(from, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        const std::string path = write_file(name, text.str());
        ::chmod(path.c_str(), mode);
        return path;
    };
    rpc::tls_config t = server_tls();
    for (const unsigned mode : {0644U, 0640U, 0604U}) {
        t.key_file = copy(certs().server.key, "loose.key", mode);
        CHECK_THROWS_AS(rpc::tls_context::make_server(t), usage_error);
        CHECK_THROWS_WITH(rpc::tls_context::make_server(t),
                          Catch::Contains("run chmod 600 " + t.key_file));
    }
    t.key_file = copy(certs().server.key, "private.key", 0600U);
    CHECK_NOTHROW(rpc::tls_context::make_server(t));

    // The committed development pair is public anyway, and git checks it out world-readable:
    // recognised by its key (here a world-readable copy under another name), it is accepted.
    rpc::tls_config dev;
    dev.cert_file = source_dir() + "/certs/test_cert.pem";
    dev.key_file = copy(source_dir() + "/certs/test_key.pem", "dev-copy.pem", 0644U);
    CHECK_NOTHROW(rpc::tls_context::make_server(dev));
    CHECK_NOTHROW(rpc::tls_context::make_client(dev));
}

}  // namespace rpcnetd::test
