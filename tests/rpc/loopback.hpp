#pragma once
// In-process loopback fixture for rpc integration tests: throwaway certificates (generated once
// per test process with the openssl CLI), one io_context run by the test thread with run_for
// bounds, a server on 127.0.0.1:0 and client helpers.
#include "app/bench/bench_service.hpp"
#include "common/log.hpp"
#include "net/with_timeout.hpp"
#include "rpc/channel.hpp"
#include "rpc/server.hpp"
#include "rpc/tls_context.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace rpcnetd::test {

namespace asio = net::asio;
using namespace std::chrono_literals;

struct cert_pair {
    std::string cert;
    std::string key;
};

// Self-signed ECDSA P-256 certificate with SANs localhost, 127.0.0.1 and ::1, in `dir`.
inline cert_pair make_cert(const std::string& dir, const std::string& name,
                           const std::string& subject = "/CN=localhost") {
    cert_pair p{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
    const auto r = run_command(
        {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30", "-subj", subject, "-addext",
         "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1", "-keyout", p.key, "-out", p.cert},
        20s);
    if (r.exit_code != 0) {
        throw std::runtime_error("openssl req failed: " + r.output);
    }
    return p;
}

struct test_certs {
    std::string dir;
    cert_pair server;  // the server's identity and the CA clients normally trust
    cert_pair other;   // an unrelated self-signed certificate (another CA)
};

inline const test_certs& certs() {
    static const test_certs c = [] {
        test_certs t;
        t.dir = "/tmp/rpcnetd-rpc-test-" + std::to_string(::getpid());
        run_command({"/bin/mkdir", "-p", t.dir}, 5s);
        t.server = make_cert(t.dir, "server");
        t.other = make_cert(t.dir, "other");
        return t;
    }();
    return c;
}

inline rpc::tls_config server_tls() {
    rpc::tls_config t;
    t.cert_file = certs().server.cert;
    t.key_file = certs().server.key;
    return t;
}

// A client config that trusts `ca` (default: the server's certificate) and has no identity.
inline rpc::tls_config client_tls(const std::string& ca = certs().server.cert) {
    rpc::tls_config t;
    t.cert_file = "";
    t.key_file = "";
    t.ca_file = ca;
    return t;
}

// Runs `body` on `ioc` until it completes or `limit` passes; rethrows its exception; fails the
// test on timeout.
inline void run_coro(asio::io_context& ioc, net::awaitable<void> body,
                     std::chrono::steady_clock::duration limit = 60s) {
    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(ioc, std::move(body), [&](const std::exception_ptr& e) {
        done = true;
        error = e;
        ioc.stop();
    });
    ioc.restart();
    ioc.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(limit));
    ioc.restart();
    if (error) {
        std::rethrow_exception(error);
    }
    REQUIRE(done);
}

// Waits (bounded, no fixed sleep: re-checks every `step`) until pred() holds.
template <typename Pred>
net::awaitable<bool> eventually(Pred pred, std::chrono::steady_clock::duration limit = 10s) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            co_return false;
        }
        t.expires_after(2ms);
        co_await t.async_wait(net::use_tuple);
    }
    co_return true;
}

struct loopback {
    asio::io_context ioc{1};
    std::unique_ptr<rpc::server> srv;
    std::shared_ptr<asio::ssl::context> client_ssl = rpc::tls_context::make_client(client_tls());

    explicit loopback(rpc::limits lim = {}, bool bench = true) {
        if (std::getenv("RPC_TEST_DEBUG") != nullptr) {
            common::init_logging("debug", common::log_format::text);
        }
        rpc::server_options o;
        o.listen = {"127.0.0.1", 0};
        o.tls = server_tls();
        o.lim = lim;
        o.node_name = "test-server";
        srv = std::make_unique<rpc::server>(ioc.get_executor(), o);
        if (bench) {
            app::register_bench_service(*srv, "test");
        }
    }

    common::endpoint target() const { return {"127.0.0.1", srv->local_endpoint().port()}; }

    // (No default argument: GCC 12 mishandles defaulted by-value coroutine parameters.)
    net::awaitable<rpc::channel> connect() { return connect_with(rpc::channel_options{}); }

    net::awaitable<rpc::channel> connect_with(rpc::channel_options o) {
        auto r = co_await rpc::channel::connect(ioc.get_executor(), target(), client_ssl, o);
        if (!r) {
            throw std::runtime_error("connect failed: " + r.error().message());
        }
        co_return *r;
    }

    ~loopback() {
        if (srv) {
            try {
                run_coro(ioc, srv->stop(1s), 10s);
            } catch (...) {
            }
        }
    }
};

inline std::string echo_request(const std::string& payload) {
    v1::EchoMsg m;
    m.set_payload(payload);
    return m.SerializeAsString();
}

inline std::string stream_request(std::uint32_t count, bool hold = false) {
    v1::StreamReq r;
    r.set_count(count);
    r.set_hold(hold);
    return r.SerializeAsString();
}

// A held Bench.Stream request padded to `bytes` with an unknown field (15, bytes): the handler
// parses it like any StreamReq, and the server holds all of it while the stream runs.
inline std::string padded_hold_request(std::size_t bytes) {
    std::string req = stream_request(1, true);
    std::string pad(bytes, 'p');
    req.push_back(static_cast<char>((15 << 3) | 2));
    for (std::size_t n = pad.size();; n >>= 7) {
        if (n < 0x80) {
            req.push_back(static_cast<char>(n));
            break;
        }
        req.push_back(static_cast<char>((n & 0x7f) | 0x80));
    }
    return req + pad;
}

}  // namespace rpcnetd::test
