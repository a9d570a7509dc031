#include "rpc/server.hpp"

#include "common/error.hpp"
#include "common/log.hpp"
#include "net/tcp_listener.hpp"
#include "rpc/server_session.hpp"
#include "rpc/tls_context.hpp"

#include <algorithm>
#include <vector>

namespace rpcnetd::rpc {
namespace {

namespace asio = net::asio;

spdlog::logger& log() {
    static spdlog::logger& l = common::logger("rpc");
    return l;
}

}  // namespace

server::server(net::asio::any_io_executor ex, server_options opts,
               std::shared_ptr<boost::asio::ssl::context> ssl)
    : ex_(ex), opts_(std::move(opts)),
      core_(std::make_shared<detail::server_core>(ex, opts_.lim, opts_.node_name,
                                                  ssl ? std::move(ssl)
                                                      : tls_context::make_server(opts_.tls))),
      acceptor_(ex), tasks_(ex, "rpc-server") {
    core_->require_client_cert = opts_.tls.require_client_cert;
}

server::~server() {
    if (started_ && !stopped_) {
        close_all_now();
    }
}

void server::add_unary(std::string method, unary_handler h) {
    core_->unary.insert_or_assign(std::move(method), std::move(h));
}

void server::add_stream(std::string method, stream_handler h) {
    core_->streaming.insert_or_assign(std::move(method), std::move(h));
}

void server::allow_roles(std::string method, std::vector<std::string> roles) {
    core_->roles.insert_or_assign(std::move(method), std::move(roles));
}

void server::set_tls_context(std::shared_ptr<boost::asio::ssl::context> ssl) {
    if (ssl) {
        core_->ssl = std::move(ssl);
        ++core_->counters.reloads;
    }
}

const server_counters& server::counters() const noexcept {
    return core_->counters;
}

void server::start() {
    if (started_) {
        return;
    }
    const auto ep = net::listen_endpoint(opts_.listen, "listen address");
    const auto ec = net::open_listener(acceptor_, ep);
    if (ec) {
        throw runtime_failure("cannot listen on " + opts_.listen.to_string() + ": " + ec.message());
    }
    started_ = true;
    log().info("rpc listening addr={}", local_endpoint().address().to_string() + ":" +
                                            std::to_string(local_endpoint().port()));
    tasks_.spawn(accept_loop());
}

net::tcp::endpoint server::local_endpoint() const {
    net::error_code ec;
    return acceptor_.local_endpoint(ec);
}

void server::set_accepting(bool on) {
    core_->accepting = on;
}

bool server::accepting() const noexcept {
    return core_->accepting;
}

std::size_t server::connection_count() const noexcept {
    return core_->sessions.size();
}

std::size_t server::active_streams() const noexcept {
    return core_->active_streams;
}

std::uint64_t server::held_request_bytes() const noexcept {
    return core_->held_request_bytes;
}

net::awaitable<void> server::accept_loop() {
    asio::steady_timer backoff_timer(ex_);
    common::duration backoff = std::chrono::milliseconds(5);
    while (acceptor_.is_open()) {
        auto [ec, sock] = co_await acceptor_.async_accept(net::use_tuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
                co_return;
            }
            log().warn("accept failed error={} backoff={}", ec.message(),
                       common::format_duration(backoff));
            backoff_timer.expires_after(backoff);
            auto [werr] = co_await backoff_timer.async_wait(net::use_tuple);
            if (werr) {
                co_return;
            }
            backoff = std::min<common::duration>(backoff * 2, std::chrono::seconds(1));
            continue;
        }
        backoff = std::chrono::milliseconds(5);
        if (core_->sessions.size() >= opts_.lim.max_connections) {
            log().warn("connection refused reason=limit max_connections={}",
                       opts_.lim.max_connections);
            ++core_->counters.connections_refused;
            net::error_code ignored;
            sock.close(ignored);
            continue;
        }
        net::error_code ignored;
        sock.set_option(net::tcp::no_delay(true), ignored);
        auto ctx = core_->ssl;  // this connection keeps its context across reloads
        auto session =
            std::make_shared<server_session>(tls_stream(std::move(sock), *ctx), core_, ctx);
        session->start();
    }
}

net::awaitable<void> server::stop(common::duration drain_timeout) {
    if (stopped_ || !started_) {
        stopped_ = true;
        co_return;
    }
    stopped_ = true;
    net::error_code ignored;
    acceptor_.close(ignored);
    tasks_.cancel();
    co_await tasks_.wait();
    log().debug("stop: accept loop ended connections={}", core_->sessions.size());

    core_->draining = true;
    core_->stop_waiting = true;
    struct reset_flag {
        detail::server_core& c;
        ~reset_flag() { c.stop_waiting = false; }
    } guard{*core_};

    for (auto* s : std::vector<server_session*>(core_->sessions.begin(), core_->sessions.end())) {
        s->drain();
    }
    const auto drain_deadline = common::clock::now() + drain_timeout;
    while (!core_->sessions.empty() && common::clock::now() < drain_deadline) {
        core_->changed.expires_at(drain_deadline);
        co_await core_->changed.async_wait(net::use_tuple);
    }
    log().debug("stop: drained connections={}", core_->sessions.size());
    if (!core_->sessions.empty()) {
        log().info("drain timeout: cancelling streams={} connections={}", core_->active_streams,
                   core_->sessions.size());
        close_all_now();
        // Handlers were cancelled; they end at their next await. Bounded wait for them.
        const auto deadline = common::clock::now() + std::chrono::seconds(5);
        while (!core_->sessions.empty() && common::clock::now() < deadline) {
            core_->changed.expires_at(deadline);
            co_await core_->changed.async_wait(net::use_tuple);
        }
        if (!core_->sessions.empty()) {
            log().error("stop: connections still alive n={}", core_->sessions.size());
        }
    }
    log().info("rpc server stopped");
}

void server::close_all_now() {
    net::error_code ignored;
    acceptor_.close(ignored);
    for (auto* s : std::vector<server_session*>(core_->sessions.begin(), core_->sessions.end())) {
        s->cancel_all();
        s->close(make_error_code(errc::unavailable));
    }
}

}  // namespace rpcnetd::rpc
