#include "rpc/channel.hpp"

#include "common/error.hpp"
#include "common/log.hpp"
#include "net/with_timeout.hpp"
#include "rpc/client_session.hpp"
#include "rpc/tls_context.hpp"

#include <boost/asio/connect.hpp>

namespace rpcnetd::rpc {

namespace asio = net::asio;
using common::clock;

namespace detail {

// Shared by every copy of a channel and its streams; the last one gone closes the connection.
struct channel_handle {
    explicit channel_handle(std::shared_ptr<client_session> s) : session(std::move(s)) {}
    ~channel_handle() { session->close_after_flush(); }
    channel_handle(const channel_handle&) = delete;
    channel_handle& operator=(const channel_handle&) = delete;
    std::shared_ptr<client_session> session;
};

namespace {

// Ends the call on scope exit unless it finished: covers timeouts and a cancelled caller.
struct abandon_guard {
    client_session& session;
    call_state& st;
    ~abandon_guard() { session.abandon(st); }
};

net::awaitable<std::tuple<net::error_code, net::tcp::socket>> tcp_connect(asio::any_io_executor ex,
                                                                          common::endpoint target) {
    net::tcp::socket sock(ex);
    net::error_code ec;
    const auto addr = asio::ip::make_address(target.host, ec);
    if (!ec) {
        auto [cerr] = co_await sock.async_connect({addr, target.port}, net::use_tuple);
        co_return std::make_tuple(cerr, std::move(sock));
    }
    net::tcp::resolver resolver(ex);
    auto [rerr, results] =
        co_await resolver.async_resolve(target.host, std::to_string(target.port), net::use_tuple);
    if (rerr) {
        co_return std::make_tuple(rerr, std::move(sock));
    }
    auto [cerr, ep] = co_await asio::async_connect(sock, results, net::use_tuple);
    (void)ep;
    co_return std::make_tuple(cerr, std::move(sock));
}

}  // namespace
}  // namespace detail

net::awaitable<boost::system::result<channel>>
channel::connect(asio::any_io_executor ex, const common::endpoint& target,
                 std::shared_ptr<asio::ssl::context> ssl, const channel_options& opts) {
    return connect_impl(std::move(ex), target, std::move(ssl), opts);
}

net::awaitable<boost::system::result<channel>>
channel::connect_impl(asio::any_io_executor ex, common::endpoint target,
                      std::shared_ptr<asio::ssl::context> ssl, channel_options opts) {
    const auto deadline = clock::now() + opts.connect_timeout;
    if (!ssl) {
        ssl = tls_context::make_client(opts.tls);
    }
    auto connected =
        co_await net::with_timeout(detail::tcp_connect(ex, target), opts.connect_timeout);
    if (!connected) {
        co_return make_error_code(errc::deadline_exceeded);
    }
    auto& [ec, sock] = *connected;
    if (ec) {
        co_return ec;
    }
    net::error_code ignored;
    sock.set_option(net::tcp::no_delay(true), ignored);
    tls_stream stream(std::move(sock), *ssl);
    const std::string& name = opts.tls.server_name.empty() ? target.host : opts.tls.server_name;
    if (auto perr = tls_context::prepare_client(stream, name)) {
        co_return perr;
    }
    connection_options co{opts.lim, opts.node_name, false};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    co.lim.handshake_timeout = std::max(left, std::chrono::milliseconds(1));
    auto session = std::make_shared<detail::client_session>(std::move(stream), co, std::move(ssl));
    session->start();
    if (auto rerr = co_await session->wait_ready(opts.early_calls)) {
        if (const auto why = tls_context::verify_failure(session->stream()); !why.empty()) {
            // Say which check failed (expired, not yet valid, unknown CA, wrong name).
            common::logger("rpc").warn("server certificate rejected peer={} reason={}",
                                       target.to_string(), why);
        }
        session->close(rerr);
        co_return rerr;
    }
    co_return channel(std::make_shared<detail::channel_handle>(std::move(session)));
}

bool channel::is_open() const noexcept {
    return handle_ && handle_->session->is_open();
}

std::string channel::peer() const {
    return handle_ ? handle_->session->peer() : std::string();
}

bool channel::resumed() const {
    return handle_ && tls_context::resumed(handle_->session->stream());
}

std::size_t channel::open_streams() const noexcept {
    return handle_ ? handle_->session->stream_count() : 0;
}

void channel::close() {
    if (handle_) {
        handle_->session->close({});
    }
}

net::awaitable<call_result> channel::unary(std::string method, std::string request,
                                           common::duration timeout) {
    if (!handle_) {
        co_return call_result{{v1::UNAVAILABLE, "not connected"}, {}};
    }
    auto keep = handle_;
    auto& session = *keep->session;
    while (!session.has_space() && session.is_open()) {
        co_await session.wait_for_space();
    }
    auto st = session.open(method, std::move(request), timeout, true);
    detail::abandon_guard guard{session, *st};
    const auto deadline = clock::now() + timeout;
    while (!st->end) {
        st->wake.expires_at(deadline);
        st->waiting = true;
        auto [ec] = co_await st->wake.async_wait(net::use_tuple);
        st->waiting = false;
        if (!ec && !st->end) {
            co_return call_result{{v1::DEADLINE_EXCEEDED, "deadline exceeded"}, {}};
        }
    }
    call_result r{std::move(*st->end), {}};
    if (!st->inbox.empty()) {
        session.consumed(st->inbox.front().size());
        r.response = std::move(st->inbox.front());
        st->inbox.pop_front();
    }
    co_return r;
}

net::awaitable<client_stream> channel::open_stream(std::string method, std::string request) {
    if (!handle_) {
        auto st =
            std::make_shared<detail::call_state>(co_await asio::this_coro::executor, 0, false);
        st->end = status{v1::UNAVAILABLE, "not connected"};
        st->transport_error = true;
        co_return client_stream(nullptr, std::move(st));
    }
    auto& session = *handle_->session;
    while (!session.has_space() && session.is_open()) {
        co_await session.wait_for_space();
    }
    auto st = session.open(method, std::move(request), common::duration::zero(), false);
    co_return client_stream(handle_, std::move(st));
}

// ---- client_stream ---------------------------------------------------------------------------

client_stream::client_stream(std::shared_ptr<detail::channel_handle> handle,
                             std::shared_ptr<detail::call_state> state) noexcept
    : handle_(std::move(handle)), state_(std::move(state)) {}

client_stream& client_stream::operator=(client_stream&& other) noexcept {
    if (this != &other) {
        cancel();
        handle_ = std::move(other.handle_);
        state_ = std::move(other.state_);
    }
    return *this;
}

client_stream::~client_stream() {
    cancel();
}

void client_stream::cancel() {
    if (handle_ && state_) {
        handle_->session->abandon(*state_);
    }
}

std::uint32_t client_stream::id() const noexcept {
    return state_ ? state_->id : 0;
}

bool client_stream::buffered() const noexcept {
    return state_ && !state_->inbox.empty();
}

bool client_stream::done() const noexcept {
    return !state_ || (state_->end.has_value() && state_->inbox.empty());
}

net::awaitable<stream_item> client_stream::next(common::duration idle_timeout) {
    if (!state_) {
        co_return stream_item{stream_item::kind::error, {}, {v1::UNAVAILABLE, "no stream"}};
    }
    auto& st = *state_;
    const auto deadline = clock::now() + idle_timeout;
    for (;;) {
        if (!st.inbox.empty()) {
            stream_item item{stream_item::kind::message, std::move(st.inbox.front()), {}};
            st.inbox.pop_front();
            if (handle_) {
                handle_->session->consumed(item.message.size());
            }
            co_return item;
        }
        if (st.end) {
            co_return stream_item{st.transport_error ? stream_item::kind::error
                                                     : stream_item::kind::finished,
                                  {},
                                  *st.end};
        }
        st.wake.expires_at(deadline);
        st.waiting = true;
        auto [ec] = co_await st.wake.async_wait(net::use_tuple);
        st.waiting = false;
        if (!ec && st.inbox.empty() && !st.end) {
            co_return stream_item{stream_item::kind::timeout, {}, {}};
        }
    }
}

}  // namespace rpcnetd::rpc
