#pragma once
// A TLS stream over a TCP socket with OpenSSL reading and writing the socket itself.
//
// Why not boost::asio::ssl::stream: it holds two 17 KiB buffers of its own plus a BIO pair with
// two 17 KiB rings for every connection, idle or not (~68 KiB), which alone is twice the memory
// budget of an idle connection. Here OpenSSL reads and writes the socket directly through a
// small BIO (recv/send with MSG_DONTWAIT, MSG_NOSIGNAL) and, with SSL_MODE_RELEASE_BUFFERS, gives
// its record buffers back whenever they are empty: an idle connection holds the SSL object only.
//
// Two ways to use it:
//   - reactor style (the hot path, rpc::connection): try_handshake()/read_some_now()/
//     write_some_now() never block; on errc would_block, co_await async_wait_ready(wants(), ...)
//     and try again. No extra posts or buffers.
//   - the asio stream interface (tests, tools): async_handshake, async_read_some,
//     async_write_some (so asio::async_write works), with any completion token.
// Single-threaded like the rest of the RPC layer: one executor, no strand needed. A closed socket
// fails every operation with bad_descriptor (the BIO reads the descriptor at each call, so a
// reused descriptor number is never touched).
#include "net/asio.hpp"

#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <type_traits>

namespace rpcnetd::rpc {

class tls_stream {
public:
    using executor_type = net::asio::any_io_executor;
    using next_layer_type = net::tcp::socket;
    using lowest_layer_type = net::tcp::socket;
    using handshake_type = boost::asio::ssl::stream_base::handshake_type;

    // The SSL object is created now; the socket may still be unconnected (connect it through
    // next_layer() before the handshake).
    tls_stream(net::tcp::socket sock, boost::asio::ssl::context& ctx);
    tls_stream(tls_stream&&) noexcept = default;
    tls_stream& operator=(tls_stream&&) noexcept = default;
    ~tls_stream();

    executor_type get_executor() { return p_->sock.get_executor(); }
    SSL* native_handle() noexcept { return p_->ssl; }
    net::tcp::socket& next_layer() noexcept { return p_->sock; }
    net::tcp::socket& lowest_layer() noexcept { return p_->sock; }

    // --- reactor style: each call does what it can now and never blocks -------------------
    // Handshake step; would_block until done, then success (or the failure).
    net::error_code try_handshake(handshake_type role) { return handshake_step(*p_, role); }
    // Decrypted bytes into `buf`: > 0 bytes, or 0 with an error (would_block, eof,
    // stream_truncated, ...).
    std::size_t read_some_now(net::asio::mutable_buffer buf, net::error_code& ec) {
        return read_step(*p_, buf, ec);
    }
    // Encrypts and sends up to one TLS record of `buf`; 0 with an error (would_block, ...).
    std::size_t write_some_now(net::asio::const_buffer buf, net::error_code& ec) {
        return write_step(*p_, buf, ec);
    }
    // After would_block: what OpenSSL waits for (wait_read or wait_write).
    net::tcp::socket::wait_type wants() const noexcept { return p_->want; }

    template <typename Token>
    auto async_wait_ready(net::tcp::socket::wait_type w, Token&& token) {
        return p_->sock.async_wait(w, std::forward<Token>(token));
    }

    // Internal state behind a stable address (the BIO points at it); public only so the BIO
    // callbacks in tls_stream.cpp can name it.
    struct impl {
        explicit impl(net::tcp::socket s) : sock(std::move(s)) {}
        net::tcp::socket sock;
        SSL* ssl = nullptr;
        net::tcp::socket::wait_type want = net::tcp::socket::wait_read;
        int last_errno = 0;  // of the BIO's last failed recv/send
        bool role_set = false;
    };

    // --- asio stream interface -------------------------------------------------------------
    template <typename Token>
    auto async_handshake(handshake_type role, Token&& token) {
        return compose<void(net::error_code)>(
            [role](impl& p, net::error_code& ec) {
                ec = handshake_step(p, role);
                return std::size_t{0};
            },
            std::forward<Token>(token));
    }

    template <typename MutableBuffers, typename Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        const net::asio::mutable_buffer b = first_buffer<net::asio::mutable_buffer>(buffers);
        return compose<void(net::error_code, std::size_t)>(
            [b](impl& p, net::error_code& ec) { return read_step(p, b, ec); },
            std::forward<Token>(token));
    }

    template <typename ConstBuffers, typename Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        const net::asio::const_buffer b = first_buffer<net::asio::const_buffer>(buffers);
        return compose<void(net::error_code, std::size_t)>(
            [b](impl& p, net::error_code& ec) { return write_step(p, b, ec); },
            std::forward<Token>(token));
    }

private:
    static net::error_code handshake_step(impl& p, handshake_type role);
    static std::size_t read_step(impl& p, net::asio::mutable_buffer buf, net::error_code& ec);
    static std::size_t write_step(impl& p, net::asio::const_buffer buf, net::error_code& ec);

    template <typename Buffer, typename Buffers>
    static Buffer first_buffer(const Buffers& buffers) {
        for (auto it = net::asio::buffer_sequence_begin(buffers);
             it != net::asio::buffer_sequence_end(buffers); ++it) {
            Buffer b(*it);
            if (b.size() != 0) {
                return b;
            }
        }
        return Buffer();
    }

    // Runs `step` until it stops saying would_block, waiting for the socket in between. The
    // first step runs from a post, so a completion is never delivered inside the initiation.
    template <typename Signature, typename Step, typename Token>
    auto compose(Step step, Token&& token);

    std::unique_ptr<impl> p_;  // stable address: the BIO points at it across moves
};

namespace detail {

template <typename Signature, typename Step>
struct tls_op {
    tls_stream::impl* p;
    Step step;
    bool started = false;

    template <typename Self>
    void operator()(Self& self, net::error_code wait_ec = {}) {
        if (!started) {
            started = true;
            auto ex = p->sock.get_executor();
            net::asio::post(ex, std::move(self));
            return;
        }
        net::error_code ec = wait_ec;
        if (!ec && self.cancelled() != net::asio::cancellation_type::none) {
            ec = net::asio::error::operation_aborted;  // cancelled while no wait was pending
        }
        std::size_t n = 0;
        if (!ec) {
            n = step(*p, ec);
            if (ec == net::asio::error::would_block) {
                p->sock.async_wait(p->want, std::move(self));
                return;
            }
        }
        if constexpr (std::is_same_v<Signature, void(net::error_code)>) {
            (void)n;
            self.complete(ec);
        } else {
            self.complete(ec, n);
        }
    }
};

}  // namespace detail

template <typename Signature, typename Step, typename Token>
auto tls_stream::compose(Step step, Token&& token) {
    return net::asio::async_compose<Token, Signature>(
        detail::tls_op<Signature, Step>{p_.get(), std::move(step)}, token, p_->sock);
}

}  // namespace rpcnetd::rpc
