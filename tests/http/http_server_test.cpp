// http::server in process: its io_context on a thread, a blocking raw-socket client in the test.
// Checks the bounds that keep a scraper from holding up the member: method, header size, read
// time and connection count.
#include "http/http_server.hpp"

#include "support/http_client.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/post.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <future>
#include <thread>

using namespace std::chrono_literals;
using namespace rpcnetd;
using test::http_exchange;
using test::parse_http_reply;

namespace {

// A connected socket to 127.0.0.1:port that the test holds open; -1 on failure.
int open_connection(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// True when the server closes `fd` (recv returns 0 or an error) within `limit`.
bool closed_within(int fd, std::chrono::seconds limit) {
    timeval tv{static_cast<time_t>(limit.count()), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    for (;;) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0) {
            return true;
        }
        if (n < 0) {
            return errno != EAGAIN && errno != EWOULDBLOCK;
        }
    }
}

struct running_server {
    net::asio::io_context ioc{1};
    http::server srv;
    std::thread thread;

    explicit running_server(http::server_options opts) : srv(ioc.get_executor(), opts) {
        srv.route("/x", [] { return http::response{200, "text/plain", "hello\n"}; });
        srv.start();
        thread = std::thread([this] { ioc.run(); });
    }
    ~running_server() {
        std::promise<void> stopped;
        net::asio::co_spawn(ioc, srv.stop(),
                            [&](const std::exception_ptr&) { stopped.set_value(); });
        stopped.get_future().wait();
        ioc.stop();
        thread.join();
    }
    unsigned short port() const { return srv.local_endpoint().port; }
};

}  // namespace

TEST_CASE("http server: GET answers, other methods 405, unknown paths 404", "[http]") {
    running_server s(http::server_options{});
    auto ok = test::http_request(s.port(), "GET", "/x?query=ignored");
    CHECK(ok.status == 200);
    CHECK(ok.body == "hello\n");
    auto post = test::http_request(s.port(), "POST", "/x");
    CHECK(post.status == 405);
    CHECK(post.head.find("Allow: GET") != std::string::npos);
    CHECK(test::http_request(s.port(), "GET", "/y").status == 404);
}

TEST_CASE("http server: keep-alive serves several requests on one connection", "[http]") {
    running_server s(http::server_options{});
    const auto raw =
        http_exchange(s.port(), "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"
                                "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    std::size_t answers = 0;
    for (auto at = raw.find("HTTP/1.1 200"); at != std::string::npos;
         at = raw.find("HTTP/1.1 200", at + 1)) {
        ++answers;
    }
    CHECK(answers == 2);
}

TEST_CASE("http server: an oversized header gets 431 and the server keeps serving", "[http]") {
    http::server_options opts;
    opts.header_limit = 1024;
    running_server s(opts);
    const auto big = parse_http_reply(http_exchange(
        s.port(), "GET /x HTTP/1.1\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n"));
    CHECK(big.status == 431);
    CHECK(test::http_request(s.port(), "GET", "/x").status == 200);
}

TEST_CASE("http server: a request body or a malformed request is refused", "[http]") {
    running_server s(http::server_options{});
    CHECK(parse_http_reply(http_exchange(s.port(), "GET /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n"
                                                   "hello"))
              .status == 400);
    CHECK(parse_http_reply(http_exchange(s.port(), "NOT HTTP AT ALL\r\n\r\n")).status == 400);
    CHECK(test::http_request(s.port(), "GET", "/x").status == 200);
}

TEST_CASE("http server: half a request is dropped after the read timeout", "[http]") {
    http::server_options opts;
    opts.read_timeout = 300ms;
    running_server s(opts);
    const int fd = open_connection(s.port());
    REQUIRE(fd >= 0);
    const std::string partial = "GET /x HTTP/1.1\r\nHost: a\r\n";  // never finished
    REQUIRE(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL) > 0);
    CHECK(closed_within(fd, 10s));
    ::close(fd);
    CHECK(test::http_request(s.port(), "GET", "/x").status == 200);
    std::promise<std::uint64_t> refused;  // counters live on the io thread: read them there
    net::asio::post(s.ioc, [&] { refused.set_value(s.srv.counters().refused); });
    CHECK(refused.get_future().get() >= 1);
}

TEST_CASE("http server: connections above the limit are closed at once", "[http]") {
    http::server_options opts;
    opts.max_connections = 2;
    running_server s(opts);
    const int a = open_connection(s.port());
    const int b = open_connection(s.port());
    REQUIRE(a >= 0);
    REQUIRE(b >= 0);
    std::this_thread::sleep_for(200ms);  // let the server accept both
    const int c = open_connection(s.port());
    REQUIRE(c >= 0);
    CHECK(closed_within(c, 10s));
    ::close(c);
    ::close(a);
    ::close(b);
    // With the held connections gone, requests are served again.
    bool served = false;
    for (int i = 0; i < 50 && !served; ++i) {
        served = test::http_request(s.port(), "GET", "/x").status == 200;
        std::this_thread::sleep_for(20ms);
    }
    CHECK(served);
}
