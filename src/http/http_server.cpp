#include "http/http_server.hpp"

#include "common/error.hpp"
#include "common/log.hpp"
#include "net/tcp_listener.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>

namespace rpcnetd::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = net::asio;

auto& log() {
    return common::logger("http");
}

// A refusal for a request that could not be parsed: status, then the connection closes.
// The HTTP message of an answer to `req`.
bhttp::response<bhttp::string_body> to_http(const response& r,
                                            const bhttp::request<bhttp::empty_body>& req) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), req.version()};
    res.set(bhttp::field::server, "rpcnetd");
    res.set(bhttp::field::content_type, r.content_type);
    res.set(bhttp::field::cache_control, "no-store");
    if (r.status == 405) {
        res.set(bhttp::field::allow, "GET");
    }
    res.keep_alive(req.keep_alive());
    res.body() = r.body;
    res.prepare_payload();
    return res;
}

bhttp::response<bhttp::string_body> refusal(bhttp::status st, std::string body) {
    bhttp::response<bhttp::string_body> res{st, 11};
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res.set(bhttp::field::connection, "close");
    res.keep_alive(false);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

// After a refusal the client may still be sending what we did not read; closing now would
// answer it with a reset that can destroy our refusal before the client reads it. So: stop
// sending, then read and discard until the client closes, at most 64 KiB or 1 s.
net::awaitable<void> drain_before_close(beast::tcp_stream& stream) {
    net::error_code ignored;
    stream.socket().shutdown(net::tcp::socket::shutdown_send, ignored);
    std::array<char, 4096> scratch;
    stream.expires_after(std::chrono::seconds(1));
    for (std::size_t drained = 0; drained < 64 * 1024;) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), net::use_tuple);
        if (ec) {
            break;
        }
        drained += n;
    }
}

}  // namespace

server::server(net::asio::any_io_executor ex, server_options opts)
    : ex_(ex), opts_(std::move(opts)), acceptor_(ex), tasks_(ex, "http") {}

server::~server() = default;

void server::start() {
    const auto ep = net::listen_endpoint(opts_.listen, "--http-addr");
    const auto ec = net::open_listener(acceptor_, ep);
    if (ec) {
        throw runtime_failure("cannot listen on --http-addr " + opts_.listen.to_string() + ": " +
                              ec.message());
    }
    log().info("http listening addr={}", local_endpoint().to_string());
    tasks_.spawn(accept_loop());
}

common::endpoint server::local_endpoint() const {
    net::error_code ec;
    const auto ep = acceptor_.local_endpoint(ec);
    return common::endpoint{ep.address().to_string(), ep.port()};
}

net::awaitable<void> server::stop() {
    stopping_ = true;
    net::error_code ignored;
    acceptor_.close(ignored);
    for (auto* s : open_) {
        s->close(ignored);
    }
    tasks_.cancel();
    co_await tasks_.wait();
}

net::awaitable<void> server::accept_loop() {
    asio::steady_timer backoff(ex_);
    while (acceptor_.is_open() && !stopping_) {
        auto [ec, sock] = co_await acceptor_.async_accept(net::use_tuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
                co_return;
            }
            log().warn("http accept failed error={}", ec.message());
            backoff.expires_after(std::chrono::milliseconds(100));
            auto [werr] = co_await backoff.async_wait(net::use_tuple);
            if (werr) {
                co_return;
            }
            continue;
        }
        if (open_.size() >= opts_.max_connections) {
            ++counters_.refused;
            net::error_code ignored;
            sock.close(ignored);
            continue;
        }
        tasks_.spawn(session(std::move(sock)));
    }
}

response server::answer(const std::string& method, const std::string& target) const {
    const auto path = target.substr(0, target.find('?'));
    const auto it = routes_.find(path);
    if (method != "GET") {
        return response{405, "text/plain; charset=utf-8", "only GET is served here\n"};
    }
    if (it == routes_.end()) {
        return response{404, "text/plain; charset=utf-8", "not found\n"};
    }
    return it->second();
}

net::awaitable<void> server::session(net::tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    // Registered so stop() can close it; unregistered however the coroutine ends.
    struct registration {
        std::set<net::tcp::socket*>& set;
        net::tcp::socket* s;
        registration(std::set<net::tcp::socket*>& open, net::tcp::socket* sock)
            : set(open), s(sock) {
            set.insert(s);
        }
        ~registration() { set.erase(s); }
        registration(const registration&) = delete;
        registration& operator=(const registration&) = delete;
    } reg(open_, &stream.socket());
    // The buffer is bounded too, a little above the header limit, so nothing grows without end.
    beast::flat_buffer buffer(opts_.header_limit + 1024);
    for (;;) {
        bhttp::request_parser<bhttp::empty_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(opts_.header_limit));
        parser.body_limit(0);
        stream.expires_after(opts_.read_timeout);
        auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, net::use_tuple);
        (void)n;
        if (ec == bhttp::error::end_of_stream || stopping_) {
            break;
        }
        if (ec) {
            ++counters_.refused;
            const bool too_big =
                ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow;
            log().debug("http request refused error={}", ec.message());
            const bool malformed =
                ec.category() == make_error_code(bhttp::error::bad_method).category();
            if (too_big || malformed) {
                auto res = too_big ? refusal(bhttp::status::request_header_fields_too_large,
                                             "request header too large\n")
                                   : refusal(bhttp::status::bad_request, "bad request\n");
                stream.expires_after(opts_.read_timeout);
                co_await bhttp::async_write(stream, res, net::use_tuple);
                co_await drain_before_close(stream);
            }
            break;
        }
        ++counters_.requests;
        const auto& req = parser.get();
        auto res =
            to_http(answer(std::string(req.method_string()), std::string(req.target())), req);
        stream.expires_after(opts_.read_timeout);
        auto [wec, wn] = co_await bhttp::async_write(stream, res, net::use_tuple);
        (void)wn;
        if (wec || !res.keep_alive()) {
            break;
        }
    }
    net::error_code ignored;
    stream.socket().shutdown(net::tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
}

}  // namespace rpcnetd::http
