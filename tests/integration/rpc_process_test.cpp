// Issue #2 acceptance against a real `rpcnetd worker` process on a free loopback port: unary
// calls, long and concurrent streams, cancellation reaching the server, an oversized frame
// header closing only its own connection, foreign CAs refused, and plain TCP closed within the
// handshake timeout.
#include "../rpc/loopback.hpp"
#include "rpc/connection.hpp"
#include "rpc/frame_decoder.hpp"
#include "support/cluster.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>

#include <array>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <span>
#include <sstream>

using namespace std::chrono_literals;
using namespace rpcnetd;
using namespace rpcnetd::test;

namespace {

struct worker_process {
    unsigned short port = free_port();
    child_process proc;

    explicit worker_process(std::vector<std::string> extra = {},
                            std::vector<std::string> extra_env = {})
        : proc(
              [&] {
                  std::vector<std::string> argv{
                      rpcnetd_binary(), "worker", "--label", "rpc-worker", "--addr",
                      "127.0.0.1:" + std::to_string(port),
                      // No director: the worker serves while it retries.
                      "--join", "127.0.0.1:" + std::to_string(free_port()), "--token-interval",
                      "0ms", "--cert", certs().server.cert, "--key", certs().server.key};
                  argv.insert(argv.end(), extra.begin(), extra.end());
                  return argv;
              }(),
              std::move(extra_env)) {
        REQUIRE(proc.wait_for_output("serving Worker.Generate", 20s));
    }
    common::endpoint target() const { return {"127.0.0.1", port}; }

    std::uint64_t rss_kib() const {
        std::ifstream in("/proc/" + std::to_string(proc.pid()) + "/status");
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind("VmRSS:", 0) == 0) {
                return std::stoull(line.substr(6));
            }
        }
        return 0;
    }
};

net::awaitable<rpc::channel> connect_to(common::endpoint target,
                                        std::shared_ptr<net::asio::ssl::context> ssl) {
    auto r = co_await rpc::channel::connect(co_await net::asio::this_coro::executor, target, ssl,
                                            rpc::channel_options{});
    if (!r) {
        throw std::runtime_error("connect failed: " + r.error().message());
    }
    co_return *r;
}

std::uint32_t active_streams(rpc::call_result r) {
    v1::HealthResponse h;
    REQUIRE(r.st.ok());
    REQUIRE(h.ParseFromString(r.response));
    return h.active_streams();
}

net::awaitable<void> unary_and_streams(common::endpoint target) {
    auto ssl = rpc::tls_context::make_client(client_tls());
    rpc::channel c = co_await connect_to(target, ssl);

    // 10,000 unary calls, each answer checked.
    for (int i = 0; i < 10000; ++i) {
        const std::string payload = "payload-" + std::to_string(i);
        auto r = co_await c.unary("Bench.Echo", echo_request(payload), 5s);
        REQUIRE(r.st.ok());
        v1::EchoMsg m;
        REQUIRE(m.ParseFromString(r.response));
        REQUIRE(m.payload() == payload);
    }

    // One stream of 100,000 tokens, complete and in order.
    auto s = co_await c.open_stream("Bench.Stream", stream_request(100000));
    std::uint32_t next = 0;
    for (;;) {
        auto item = co_await s.next(10s);
        if (item.what != rpc::stream_item::kind::message) {
            REQUIRE(item.what == rpc::stream_item::kind::finished);
            REQUIRE(item.st.ok());
            break;
        }
        v1::BenchToken t;
        REQUIRE(t.ParseFromString(item.message));
        char expect[32];
        std::snprintf(expect, sizeof expect, "token-%010u", next);
        REQUIRE(t.token() == expect);
        ++next;
    }
    CHECK(next == 100000);
}

net::awaitable<void> one_stream(rpc::channel c, std::uint32_t count, std::uint32_t* received) {
    auto s = co_await c.open_stream("Bench.Stream", stream_request(count));
    for (;;) {
        auto item = co_await s.next(20s);
        if (item.what != rpc::stream_item::kind::message) {
            break;
        }
        ++*received;
    }
}

net::awaitable<void> concurrent_streams(common::endpoint target) {
    auto ssl = rpc::tls_context::make_client(client_tls());
    rpc::channel c = co_await connect_to(target, ssl);
    std::vector<std::uint32_t> received(64, 0);
    auto ex = co_await net::asio::this_coro::executor;
    int done = 0;
    net::asio::steady_timer all_done(ex, std::chrono::steady_clock::time_point::max());
    for (std::size_t i = 0; i < 64; ++i) {
        net::asio::co_spawn(ex, one_stream(c, 2000, &received[i]), [&](const std::exception_ptr&) {
            if (++done == 64) {
                all_done.cancel();
            }
        });
    }
    co_await all_done.async_wait(net::use_tuple);
    for (auto n : received) {
        CHECK(n == 2000);
    }
}

net::awaitable<void> cancel_reaches_server(common::endpoint target) {
    auto ssl = rpc::tls_context::make_client(client_tls());
    rpc::channel c = co_await connect_to(target, ssl);
    v1::GenerateRequest req;
    req.set_job("cancel-test");
    req.set_from_sequence(1);
    req.set_to_sequence(0);  // endless
    req.set_token_interval_us(1000);
    auto s = co_await c.open_stream("Worker.Generate", req.SerializeAsString());
    for (int i = 0; i < 10; ++i) {
        auto item = co_await s.next(5s);
        REQUIRE(item.what == rpc::stream_item::kind::message);
    }
    CHECK(active_streams(co_await c.unary("Worker.Health", {}, 5s)) == 1);
    s.cancel();
    // The worker's handler must end: poll its own count (bounded).
    net::asio::steady_timer t(co_await net::asio::this_coro::executor);
    std::uint32_t left = 1;
    for (int i = 0; i < 500 && left != 0; ++i) {
        left = active_streams(co_await c.unary("Worker.Health", {}, 5s));
        t.expires_after(10ms);
        co_await t.async_wait(net::use_tuple);
    }
    CHECK(left == 0);
}

// Sends `bytes` over a fresh TLS connection (no Hello), then waits for the server to close it.
net::awaitable<bool> closed_after(common::endpoint target, std::string bytes,
                                  std::chrono::milliseconds limit) {
    auto ex = co_await net::asio::this_coro::executor;
    auto ssl = rpc::tls_context::make_client(client_tls());
    net::asio::ssl::stream<net::tcp::socket> stream(ex, *ssl);
    co_await stream.next_layer().async_connect(
        net::tcp::endpoint(net::asio::ip::make_address("127.0.0.1"), target.port),
        net::use_awaitable);
    co_await stream.async_handshake(net::asio::ssl::stream_base::client, net::use_awaitable);
    co_await net::asio::async_write(stream, net::asio::buffer(bytes), net::use_awaitable);
    std::array<char, 4096> buf{};
    net::asio::steady_timer deadline(ex, limit);
    deadline.async_wait([&](const net::error_code& e) {
        if (!e) {
            stream.next_layer().close();
        }
    });
    for (;;) {
        auto [ec, n] = co_await stream.async_read_some(net::asio::buffer(buf), net::use_tuple);
        if (ec) {
            const bool closed_by_server = deadline.expiry() > std::chrono::steady_clock::now();
            deadline.cancel();
            co_return closed_by_server;
        }
    }
}

net::awaitable<void> oversized_frame_closes_only_its_connection(common::endpoint target) {
    auto ssl = rpc::tls_context::make_client(client_tls());
    rpc::channel good = co_await connect_to(target, ssl);
    // Header: length 1 GiB, stream 0, type HELLO, flags 0, reserved 0 (big-endian).
    const std::string header("\x40\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00", 12);
    CHECK(co_await closed_after(target, header, 10000ms));
    for (int i = 0; i < 100; ++i) {
        auto r = co_await good.unary("Bench.Echo", echo_request("still here"), 5s);
        REQUIRE(r.st.ok());
    }
}

net::awaitable<void> foreign_ca_refused(common::endpoint target) {
    auto ssl = rpc::tls_context::make_client(client_tls(certs().other.cert));
    auto r = co_await rpc::channel::connect(co_await net::asio::this_coro::executor, target, ssl,
                                            rpc::channel_options{});
    const bool connected = static_cast<bool>(r);
    CHECK_FALSE(connected);
}

net::awaitable<std::chrono::milliseconds> plain_tcp_closed(common::endpoint target) {
    auto ex = co_await net::asio::this_coro::executor;
    net::tcp::socket sock(ex);
    co_await sock.async_connect(
        net::tcp::endpoint(net::asio::ip::make_address("127.0.0.1"), target.port),
        net::use_awaitable);
    const auto start = std::chrono::steady_clock::now();
    const std::string junk = "GET / HTTP/1.0\r\n\r\n";
    co_await net::asio::async_write(sock, net::asio::buffer(junk), net::use_awaitable);
    std::array<char, 1024> buf{};
    net::asio::steady_timer deadline(ex, 20s);
    deadline.async_wait([&](const net::error_code& e) {
        if (!e) {
            sock.close();
        }
    });
    for (;;) {
        auto [ec, n] = co_await sock.async_read_some(net::asio::buffer(buf), net::use_tuple);
        if (ec) {
            break;
        }
    }
    deadline.cancel();
    co_return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
}

net::awaitable<void> silent_tcp_closed_within_timeout(common::endpoint target) {
    // Connects and says nothing at all: the handshake timeout must still close it.
    auto ex = co_await net::asio::this_coro::executor;
    net::tcp::socket sock(ex);
    co_await sock.async_connect(
        net::tcp::endpoint(net::asio::ip::make_address("127.0.0.1"), target.port),
        net::use_awaitable);
    const auto start = std::chrono::steady_clock::now();
    std::array<char, 64> buf{};
    net::asio::steady_timer deadline(ex, 20s);
    deadline.async_wait([&](const net::error_code& e) {
        if (!e) {
            sock.close();
        }
    });
    auto [ec, n] = co_await sock.async_read_some(net::asio::buffer(buf), net::use_tuple);
    deadline.cancel();
    const auto waited = std::chrono::steady_clock::now() - start;
    CHECK(ec);
    CHECK(waited >= 300ms);  // not closed before the timeout...
    CHECK(waited < 10s);     // ...and not left open (generous bound on a shared machine)
}

}  // namespace

TEST_CASE("rpc process: a 1 GiB frame header closes only that connection", "[rpc][integration]") {
    worker_process w;
    const auto rss_before = w.rss_kib();
    net::asio::io_context ioc(1);
    run_coro(ioc, oversized_frame_closes_only_its_connection(w.target()), 60s);
    const auto rss_after = w.rss_kib();
    INFO("worker RSS before " << rss_before << " KiB, after " << rss_after << " KiB");
    CHECK(rss_after < rss_before + 16 * 1024);  // nowhere near the announced 1 GiB
    CHECK(w.proc.running());
}

namespace {

// The worker's memory as the kernel counts it: VmRSS now, VmHWM the peak since it started.
std::uint64_t status_kib(const child_process& proc, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(proc.pid()) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0) {
            return std::stoull(line.substr(field.size() + 1));
        }
    }
    return 0;
}

using ssl_socket = net::asio::ssl::stream<net::tcp::socket>;

// CPU time (user + system) a process used so far, in milliseconds.
std::uint64_t cpu_ms(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    std::uint64_t ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i >= 14) {
            ticks += std::stoull(field);  // utime, stime
        }
    }
    return ticks * 1000 / static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
}

struct flood_outcome {
    std::size_t accepted = 0;  // running, holding their request (answered with a first token)
    std::size_t refused = 0;   // ended with RESOURCE_EXHAUSTED
    std::size_t other = 0;     // ended otherwise (a failure)
    std::vector<std::unique_ptr<ssl_socket>> conns;  // kept open: their accepted calls hold
    bool done = false;
    std::size_t echoes_during = 0;  // the other client's calls answered while the flood ran
    std::size_t echo_failures = 0;
    common::duration slowest_echo{};
    std::uint64_t rss_sampled_max_kib = 0;
    std::uint64_t call_frame_bytes = 0;  // body length of each CALL frame
};

// Writes `n` CALL frames (stream ids 1..n) with the same body, back to back, after a Hello.
net::awaitable<void> write_calls(ssl_socket* s, const std::string* call_body, std::uint32_t n) {
    v1::Hello hello;
    hello.set_version(rpc::protocol_version);
    hello.set_node_name("flood");
    std::string hello_frame;
    rpc::append_frame(hello_frame, rpc::frame_type::hello, 0, hello.SerializeAsString());
    co_await net::asio::async_write(*s, net::asio::buffer(hello_frame), net::use_awaitable);
    for (std::uint32_t id = 1; id <= n; ++id) {
        std::array<std::uint8_t, rpc::frame_header_size> header{};
        rpc::encode_header(
            {static_cast<std::uint32_t>(call_body->size()), id, rpc::frame_type::call, 0}, header);
        const std::array<net::asio::const_buffer, 2> frame{net::asio::buffer(header),
                                                           net::asio::buffer(*call_body)};
        co_await net::asio::async_write(*s, frame, net::use_awaitable);
    }
}

// Reads the server's frames until each of the `n` streams has its first answer: a DATA frame
// (the held stream runs) or an END (refused).
net::awaitable<void> read_first_answers(ssl_socket* s, std::uint32_t n, flood_outcome* out) {
    rpc::frame_decoder decoder(rpc::limits{}.max_frame);
    std::vector<bool> answered(n + 1, false);
    std::uint32_t left = n;
    std::array<std::uint8_t, 16 * 1024> buf{};
    while (left > 0) {
        const std::size_t got =
            co_await s->async_read_some(net::asio::buffer(buf), net::use_awaitable);
        std::span<const std::uint8_t> data(buf.data(), got);
        while (!data.empty()) {
            net::error_code ec;
            data = data.subspan(decoder.put(data, ec));
            REQUIRE_FALSE(ec);
            if (!decoder.is_done()) {
                continue;
            }
            const rpc::frame f = decoder.release();
            const auto id = f.header.stream_id;
            if (id == 0 || id > n || answered[id]) {
                continue;  // Hello, keep-alive, or a later frame of a stream already counted
            }
            if (f.header.type == rpc::frame_type::data) {
                ++out->accepted;
            } else if (f.header.type == rpc::frame_type::end) {
                v1::End end;
                REQUIRE(end.ParseFromString(f.body));
                ++(end.code() == v1::RESOURCE_EXHAUSTED ? out->refused : out->other);
            } else {
                continue;
            }
            answered[id] = true;
            --left;
        }
    }
}

// One connection of the flooding peer, speaking the wire protocol itself as an abusive peer
// would (no client library copying each request): `n` held Bench.Stream calls written at once
// while their answers are read.
net::awaitable<void> raw_hold_flood(common::endpoint target, const std::string* call_body,
                                    std::uint32_t n, flood_outcome* out) {
    using namespace net::asio::experimental::awaitable_operators;
    auto ex = co_await net::asio::this_coro::executor;
    static const auto ssl = rpc::tls_context::make_client(client_tls());
    auto s = std::make_unique<ssl_socket>(ex, *ssl);
    co_await s->next_layer().async_connect(
        net::tcp::endpoint(net::asio::ip::make_address("127.0.0.1"), target.port),
        net::use_awaitable);
    co_await s->async_handshake(net::asio::ssl::stream_base::client, net::use_awaitable);
    co_await (write_calls(s.get(), call_body, n) && read_first_answers(s.get(), n, out));
    out->conns.push_back(std::move(s));
}

net::awaitable<void> flood_connections(common::endpoint target, const std::string* call_body,
                                       std::uint32_t per_connection, flood_outcome* out) {
    using namespace net::asio::experimental::awaitable_operators;
    co_await (raw_hold_flood(target, call_body, per_connection, out) &&
              raw_hold_flood(target, call_body, per_connection, out) &&
              raw_hold_flood(target, call_body, per_connection, out) &&
              raw_hold_flood(target, call_body, per_connection, out));
    out->done = true;
}

// Another client, on its own connection, calls Bench.Echo every 50 ms while the flood runs.
net::awaitable<void> served_meanwhile(rpc::channel other, flood_outcome* out) {
    net::asio::steady_timer t(co_await net::asio::this_coro::executor);
    while (!out->done) {
        const auto start = common::clock::now();
        auto r = co_await other.unary("Bench.Echo", echo_request("still here"), 10s);
        const auto took = common::clock::now() - start;
        if (out->done) {
            break;  // answered after the flood ended: not evidence either way
        }
        if (r.st.ok()) {
            ++out->echoes_during;
            out->slowest_echo = std::max(out->slowest_echo, took);
        } else {
            ++out->echo_failures;
        }
        t.expires_after(50ms);
        co_await t.async_wait(net::use_tuple);
    }
}

net::awaitable<void> sample_rss(const child_process* proc, flood_outcome* out) {
    net::asio::steady_timer t(co_await net::asio::this_coro::executor);
    while (!out->done) {
        out->rss_sampled_max_kib = std::max(out->rss_sampled_max_kib, status_kib(*proc, "VmRSS"));
        t.expires_after(20ms);
        co_await t.async_wait(net::use_tuple);
    }
}

net::awaitable<void> flood_held_requests(const worker_process* w, std::uint32_t per_connection,
                                         flood_outcome* out) {
    using namespace net::asio::experimental::awaitable_operators;
    // Held Bench.Stream requests of 4 MiB less room for the Call around them, so each CALL frame
    // fits --max-frame (4 MiB).
    v1::Call call;
    call.set_method("Bench.Stream");
    call.set_request(padded_hold_request((4U << 20U) - 256));
    const std::string call_body = call.SerializeAsString();
    out->call_frame_bytes = call_body.size();
    auto ssl = rpc::tls_context::make_client(client_tls());
    rpc::channel other = co_await connect_to(w->target(), ssl);
    co_await (flood_connections(w->target(), &call_body, per_connection, out) &&
              served_meanwhile(other, out) && sample_rss(&w->proc, out));
    other.close();
}

// The worker's RSS once it runs no stream any more.
net::awaitable<void> rss_once_idle(const worker_process* w, std::uint64_t* rss) {
    auto ssl = rpc::tls_context::make_client(client_tls());
    rpc::channel c = co_await connect_to(w->target(), ssl);
    for (int i = 0; i < 1000; ++i) {
        if (active_streams(co_await c.unary("Worker.Health", {}, 5s)) == 0) {
            break;
        }
        net::asio::steady_timer t(co_await net::asio::this_coro::executor, 20ms);
        co_await t.async_wait(net::use_tuple);
    }
    *rss = status_kib(w->proc, "VmRSS");
    c.close();
}

// `rpcnetd stats --output json` of the worker.
std::string stats_json(const worker_process& w) {
    auto r = run_command({rpcnetd_binary(), "stats", "--target", w.target().to_string(), "--cert",
                          certs().server.cert, "--key", certs().server.key, "--output", "json"},
                         20s);
    REQUIRE(r.exit_code == 0);
    return r.output;
}

std::uint64_t stat_value(const std::string& json, const std::string& name) {
    const auto key = "\"" + name + "\":";
    const auto at = json.find(key);
    REQUIRE(at != std::string::npos);
    return std::stoull(json.substr(at + key.size()));
}

}  // namespace

TEST_CASE("rpc process: 1000 held 4 MiB requests from one peer are refused past the memory "
          "budget, RSS stays under budget + 32 MiB, another client is served",
          "[rpc][integration]") {
    constexpr std::uint64_t budget_mib = 64;
    constexpr std::uint64_t per_connection_mib = 32;
#if defined(__SANITIZE_ADDRESS__)
    // Under AddressSanitizer: the same flood, budgets and bounds with 160 streams (16 still run,
    // 144 are refused). This test's cost is 4 MiB per stream through TLS on both sides, which the
    // sanitizer makes no more telling, and the sanitizer pass is near CI's time budget. The
    // normal build runs the full 1,000 of the acceptance.
    constexpr std::uint32_t per_connection = 40;
#else
    constexpr std::uint32_t per_connection = 250;
#endif
    constexpr std::size_t streams = 4 * per_connection;
    // Under AddressSanitizer freed blocks wait in a 256 MiB quarantine instead of being reused,
    // which would measure ASan, not the budget: the worker runs without quarantine (the variable
    // means nothing to a build without ASan).
    const char* asan = std::getenv("ASAN_OPTIONS");
    worker_process w({"--max-request-bytes-per-connection",
                      std::to_string(per_connection_mib << 20U), "--max-request-bytes",
                      std::to_string(budget_mib << 20U)},
                     {std::string("ASAN_OPTIONS=") + (asan != nullptr ? asan : "") +
                      ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"});
    const auto rss_before = status_kib(w.proc, "VmRSS");
    net::asio::io_context ioc(1);
    flood_outcome out;  // after ioc: its TLS streams must go before their io_context does
    const auto start = std::chrono::steady_clock::now();
    const auto cpu_before = cpu_ms(w.proc.pid()) + cpu_ms(::getpid());
    run_coro(ioc, flood_held_requests(&w, per_connection, &out), 120s);
    const auto cpu_used = cpu_ms(w.proc.pid()) + cpu_ms(::getpid()) - cpu_before;
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    const auto rss_held = status_kib(w.proc, "VmRSS");
    const auto rss_peak = status_kib(w.proc, "VmHWM");
    const auto stats_held = stats_json(w);
    const auto refusals = stat_value(stats_held, "rpc.request_budget_refusals");
    const auto bytes_held = stat_value(stats_held, "rpc.request_bytes_held");
    // The peer leaves: its held calls end, and their requests go back to the kernel.
    for (auto& c : out.conns) {
        net::error_code ignored;
        c->next_layer().close(ignored);
    }
    std::uint64_t rss_after = 0;
    run_coro(ioc, rss_once_idle(&w, &rss_after), 30s);
    const auto bytes_held_after = stat_value(stats_json(w), "rpc.request_bytes_held");
    std::cout << "held request flood: streams=" << streams << " accepted=" << out.accepted
              << " refused=" << out.refused << " budget_refusals=" << refusals
              << " request_bytes_held=" << bytes_held << " rss_before_kib=" << rss_before
              << " rss_peak_kib=" << rss_peak << " rss_sampled_max_kib=" << out.rss_sampled_max_kib
              << " rss_held_kib=" << rss_held << " rss_after_kib=" << rss_after
              << " echoes_during=" << out.echoes_during << " slowest_echo_ms="
              << std::chrono::duration_cast<std::chrono::milliseconds>(out.slowest_echo).count()
              << " took_ms=" << took.count() << " cpu_ms=" << cpu_used << "\n";
    // 64 MiB hold sixteen CALL frames of just under 4 MiB (each connection's 32 MiB holds
    // eight); every other stream is refused, and counted.
    CHECK(out.accepted == 16);
    CHECK(out.refused == streams - 16);
    CHECK(out.other == 0);
    CHECK(refusals == streams - 16);
    // What the budget holds: the 16 CALL frames, and the few bytes of the Node.Stats call that
    // reads it (held while it runs).
    CHECK(bytes_held >= 16 * out.call_frame_bytes);
    CHECK(bytes_held - 16 * out.call_frame_bytes < 256);
    CHECK(bytes_held_after < 256);
    // The peak, not a sample: the kernel's high-water mark of the worker's resident memory.
    CHECK(rss_peak < rss_before + (budget_mib + 32) * 1024);
    // Large blocks are returned when freed.
    CHECK(rss_after < rss_before + 16 * 1024);
    CHECK(out.echoes_during > 0);
    CHECK(out.echo_failures == 0);
}

// Issue #13 item 2: an idle connection (with one held stream) costs a worker at most 32 KiB.
// `rpcnetd bench --mode idle` opens the connections and streams and reads the worker's VmRSS
// before and after (the same measurement as the gRPC harness's 1,000-connection phase).
TEST_CASE("rpc process: 500 idle connections with a held stream each cost a worker <= 32 KiB "
          "apiece",
          "[rpc][integration]") {
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer pads every allocation with red zones (measured 31.9 KiB against 20.3):
    // twice that still catches a return to the ~100 KiB of a buffered TLS stream.
    constexpr double max_per_conn_kib = 64;
#else
    constexpr double max_per_conn_kib = 32;
#endif
    // As above: no ASan quarantine, or the handshakes' freed blocks would count as held.
    const char* asan = std::getenv("ASAN_OPTIONS");
    worker_process w({}, {std::string("ASAN_OPTIONS=") + (asan != nullptr ? asan : "") +
                          ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"});
    auto r = run_command({rpcnetd_binary(), "bench", "--mode", "idle", "--target",
                          w.target().to_string(), "--channels", "500", "--streams", "500",
                          "--server-pid", std::to_string(w.proc.pid()), "--output", "json",
                          "--cert", certs().server.cert, "--key", certs().server.key},
                         120s);
    REQUIRE(r.exit_code == 0);
    const auto line = r.output.substr(r.output.rfind("{\"phase\""));
    const auto report = boost::json::parse(line).as_object();
    std::cout << "idle connections: " << line;
    CHECK(report.at("established").to_number<int>() == 500);
    CHECK(report.at("conn_fail").to_number<int>() == 0);
    const double per_conn = report.at("per_conn_kib").to_number<double>();
    CHECK(per_conn > 0);
    CHECK(per_conn <= max_per_conn_kib);
}

TEST_CASE("rpc process: a client trusting another CA is refused", "[rpc][integration]") {
    worker_process w;
    net::asio::io_context ioc(1);
    run_coro(ioc, foreign_ca_refused(w.target()), 30s);
}

TEST_CASE("rpc process: plain TCP is closed within the handshake timeout", "[rpc][integration]") {
    worker_process w({"--handshake-timeout", "500ms"});
    net::asio::io_context ioc(1);
    std::chrono::milliseconds took{};
    run_coro(
        ioc,
        [](common::endpoint t, std::chrono::milliseconds* out) -> net::awaitable<void> {
            *out = co_await plain_tcp_closed(t);
        }(w.target(), &took),
        30s);
    CHECK(took < 10s);
    run_coro(ioc, silent_tcp_closed_within_timeout(w.target()), 30s);
}

TEST_CASE("rpc process: 10,000 unary calls and a 100,000-token stream against a worker",
          "[rpc][integration]") {
    worker_process w;
    net::asio::io_context ioc(1);
    run_coro(ioc, unary_and_streams(w.target()), 120s);
}

TEST_CASE("rpc process: 64 concurrent streams on one connection", "[rpc][integration]") {
    worker_process w;
    net::asio::io_context ioc(1);
    run_coro(ioc, concurrent_streams(w.target()), 120s);
}

TEST_CASE("rpc process: cancelling a stream stops the worker's work", "[rpc][integration]") {
    worker_process w;
    net::asio::io_context ioc(1);
    run_coro(ioc, cancel_reaches_server(w.target()), 60s);
}
