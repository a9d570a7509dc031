#pragma once
// Fixture for the TLS-hardening and limits tests: a test CA with role certificates
// (OU=director|worker|client), a foreign CA, an expired and a not-yet-valid certificate, and an
// rpc::server on 127.0.0.1:0 with a counting "Worker.Health" (director only) and the bench
// service, optionally with --require-client-cert.
#include "app/bench/bench_service.hpp"
#include "loopback.hpp"
#include "rpc/call_context.hpp"
#include "rpc/frame.hpp"
#include "rpc/frame_decoder.hpp"
#include "test_pki.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace rpcnetd::test {

struct pki_set {
    std::string dir;
    test_pki ca;
    test_pki foreign;
    pki_cert server, server2, director, worker, client, no_role, expired, not_yet, foreign_client;
};

inline const pki_set& pki() {
    static const pki_set p = [] {
        const std::string dir = "/tmp/rpcnetd-pki-test-" + std::to_string(::getpid());
        run_command({"/bin/mkdir", "-p", dir}, 5s);
        pki_set s{
            dir, test_pki(dir, "main"), test_pki(dir, "foreign"), {}, {}, {}, {}, {}, {}, {}, {},
            {}};
        s.server = s.ca.issue("server", "worker");
        s.server2 = s.ca.issue("server2", "worker");
        s.director = s.ca.issue("director", "director");
        s.worker = s.ca.issue("worker", "worker");
        s.client = s.ca.issue("client", "client");
        s.no_role = s.ca.issue("norole", "");
        s.expired = s.ca.issue("expired", "client", -10L * 86400, -86400);
        s.not_yet = s.ca.issue("notyet", "client", 86400, 10L * 86400);
        s.foreign_client = s.foreign.issue("client", "client");
        return s;
    }();
    return p;
}

inline rpc::tls_config identity(const pki_cert& c, const std::string& ca = pki().ca.ca_file()) {
    rpc::tls_config t;
    t.cert_file = c.cert;
    t.key_file = c.key;
    t.ca_file = ca;
    return t;
}

// A client context that presents `c` without the start-up validity check (to show the server
// refusing an expired or not-yet-valid peer certificate).
inline std::shared_ptr<asio::ssl::context> raw_client_ctx(const pki_cert* c, int max_version = 0) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    if (c != nullptr) {
        ctx->use_certificate_chain_file(c->cert);
        ctx->use_private_key_file(c->key, asio::ssl::context::pem);
    }
    if (max_version != 0) {
        SSL_CTX_set_max_proto_version(ctx->native_handle(), max_version);
    }
    ctx->set_verify_mode(asio::ssl::verify_none);
    return ctx;
}

struct mtls_loopback {
    asio::io_context ioc{1};
    std::unique_ptr<rpc::server> srv;
    int handler_runs = 0;
    std::string last_role;

    explicit mtls_loopback(bool require_client_cert, rpc::limits lim = {}) {
        if (std::getenv("RPC_TEST_DEBUG") != nullptr) {
            common::init_logging("debug", common::log_format::text);
        }
        rpc::server_options o;
        o.tls = identity(pki().server);
        o.tls.require_client_cert = require_client_cert;
        o.lim = lim;
        o.node_name = "mtls-server";
        srv = std::make_unique<rpc::server>(ioc.get_executor(), o);
        srv->add_unary("Worker.Health", [this](rpc::call_context& c, std::string r) {
            return health(c, std::move(r));
        });
        srv->allow_roles("Worker.Health", {"director"});
        srv->add_unary("Keys.List", [this](rpc::call_context& c, std::string r) {
            return health(c, std::move(r));
        });
        srv->allow_roles("Keys.*", {"director", "worker"});
        app::register_bench_service(*srv, "t");
        srv->start();
    }

    net::awaitable<std::pair<rpc::status, std::string>> health(rpc::call_context& c, std::string) {
        ++handler_runs;
        last_role = c.peer_role();
        co_return std::pair{rpc::status{}, std::string{}};
    }

    common::endpoint target() const { return {"127.0.0.1", srv->local_endpoint().port()}; }
    net::tcp::endpoint tcp_target() const {
        return {asio::ip::make_address("127.0.0.1"), srv->local_endpoint().port()};
    }

    ~mtls_loopback() {
        try {
            run_coro(ioc, srv->stop(1s), 10s);
        } catch (...) {
        }
    }
};

// A hand-driven TLS peer: TCP connect, TLS handshake (no verification), and our Hello.
inline net::awaitable<std::unique_ptr<rpc::tls_stream>>
raw_connect(net::tcp::endpoint ep, std::shared_ptr<asio::ssl::context> ctx, bool send_hello) {
    auto ex = co_await asio::this_coro::executor;
    auto s = std::make_unique<rpc::tls_stream>(net::tcp::socket(ex), *ctx);
    co_await s->next_layer().async_connect(ep, net::use_awaitable);
    co_await s->async_handshake(asio::ssl::stream_base::client, net::use_awaitable);
    if (send_hello) {
        v1::Hello h;
        h.set_version(rpc::protocol_version);
        std::string out;
        rpc::append_frame(out, rpc::frame_type::hello, 0, h.SerializeAsString());
        co_await asio::async_write(*s, asio::buffer(out), net::use_awaitable);
    }
    co_return s;
}

struct peer_outcome {
    std::optional<std::string> goaway_reason;
    bool closed = false;  // the server closed (false: our `limit` ran out)
    common::duration took{};
};

// Reads frames until the server closes the connection or `limit` passes; remembers the reason
// of a GOAWAY.
inline net::awaitable<peer_outcome> read_until_closed(rpc::tls_stream& s, common::duration limit) {
    peer_outcome out;
    const auto start = common::clock::now();
    bool timed_out = false;
    asio::steady_timer deadline(co_await asio::this_coro::executor, limit);
    deadline.async_wait([&](const net::error_code& e) {
        if (!e) {
            timed_out = true;
            net::error_code ignored;
            s.lowest_layer().close(ignored);
        }
    });
    rpc::frame_decoder dec(64U * 1024U * 1024U);
    std::vector<std::uint8_t> buf(32 * 1024);
    for (;;) {
        auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), net::use_tuple);
        if (ec) {
            break;
        }
        std::span<const std::uint8_t> data(buf.data(), n);
        while (!data.empty()) {
            net::error_code derr;
            data = data.subspan(dec.put(data, derr));
            if (derr) {
                break;
            }
            if (dec.is_done()) {
                auto f = dec.release();
                v1::GoAway g;
                if (f.header.type == rpc::frame_type::goaway && g.ParseFromString(f.body)) {
                    out.goaway_reason = g.reason();
                }
            }
        }
    }
    deadline.cancel();
    out.closed = !timed_out;
    out.took = common::clock::now() - start;
    co_return out;
}

}  // namespace rpcnetd::test
