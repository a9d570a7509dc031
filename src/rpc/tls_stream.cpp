#include "rpc/tls_stream.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>

#include <cerrno>
#include <climits>
#include <stdexcept>

#include <sys/socket.h>

namespace rpcnetd::rpc {
namespace {

namespace asio = net::asio;

using impl = tls_stream::impl;

impl& target(BIO* b) {
    return *static_cast<impl*>(BIO_get_data(b));
}

// The descriptor now, or -1 once the socket closed (a reused number is never touched).
int current_fd(BIO* b) {
    auto& p = target(b);
    return p.sock.is_open() ? p.sock.native_handle() : -1;
}

int bio_write(BIO* b, const char* data, int len) {
    BIO_clear_retry_flags(b);
    const int fd = current_fd(b);
    if (fd < 0) {
        target(b).last_errno = EBADF;
        return -1;
    }
    const ssize_t n = ::send(fd, data, static_cast<std::size_t>(len), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
            BIO_set_retry_write(b);
        } else {
            target(b).last_errno = err;
        }
        return -1;
    }
    return static_cast<int>(n);
}

int bio_read(BIO* b, char* data, int len) {
    BIO_clear_retry_flags(b);
    const int fd = current_fd(b);
    if (fd < 0) {
        target(b).last_errno = EBADF;
        return -1;
    }
    const ssize_t n = ::recv(fd, data, static_cast<std::size_t>(len), MSG_DONTWAIT);
    if (n < 0) {
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
            BIO_set_retry_read(b);
        } else {
            target(b).last_errno = err;
        }
        return -1;
    }
    return static_cast<int>(n);  // 0: the peer closed TCP
}

long bio_ctrl(BIO* b, int cmd, long num, void* ptr) {
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:  // send() has no user-space buffer to flush
        return 1;
    default:
        return 0;
    }
}

int bio_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

BIO_METHOD* socket_method() {
    static BIO_METHOD* m = [] {
        BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rpcnetd-socket");
        if (bm == nullptr || BIO_meth_set_write(bm, bio_write) != 1 ||
            BIO_meth_set_read(bm, bio_read) != 1 || BIO_meth_set_ctrl(bm, bio_ctrl) != 1 ||
            BIO_meth_set_create(bm, bio_create) != 1) {
            throw std::runtime_error("cannot create the TLS socket BIO");
        }
        return bm;
    }();
    return m;
}

}  // namespace

tls_stream::tls_stream(net::tcp::socket sock, boost::asio::ssl::context& ctx)
    : p_(std::make_unique<impl>(std::move(sock))) {
    p_->ssl = SSL_new(ctx.native_handle());
    if (p_->ssl == nullptr) {
        throw std::runtime_error("SSL_new failed");
    }
    BIO* bio = BIO_new(socket_method());
    if (bio == nullptr) {
        SSL_free(p_->ssl);
        throw std::runtime_error("BIO_new failed");
    }
    BIO_set_data(bio, p_.get());
    SSL_set_bio(p_->ssl, bio, bio);  // the SSL owns the BIO (one reference for both sides)
}

tls_stream::~tls_stream() {
    if (p_ && p_->ssl != nullptr) {
        SSL_free(p_->ssl);
    }
}

namespace {

// Maps the outcome of an SSL call that returned `ret` <= 0 to would_block (with what to wait
// for) or the error, the way boost::asio::ssl::stream reports them.
net::error_code ssl_failure(SSL* ssl, int ret, int& last_errno, net::tcp::socket::wait_type& want) {
    const int err = SSL_get_error(ssl, ret);
    net::error_code ec;
    switch (err) {
    // Waiting leaves nothing on the error queue: return without clearing it (ERR_clear_error
    // costs a thread-local lookup, and a read that would block is once per call at C=1).
    case SSL_ERROR_WANT_READ:
        want = net::tcp::socket::wait_read;
        return asio::error::would_block;
    case SSL_ERROR_WANT_WRITE:
        want = net::tcp::socket::wait_write;
        return asio::error::would_block;
    case SSL_ERROR_ZERO_RETURN:  // close_notify
        ec = asio::error::eof;
        break;
    case SSL_ERROR_SYSCALL:
        if (const unsigned long e = ERR_get_error(); e != 0) {
            ec = net::error_code(static_cast<int>(e), asio::error::get_ssl_category());
        } else if (last_errno != 0) {
            ec = net::error_code(last_errno, boost::system::system_category());
        } else {
            ec = asio::ssl::error::stream_truncated;  // TCP closed without close_notify
        }
        break;
    default: {
        const unsigned long e = ERR_peek_last_error();
        if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
            ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ec = asio::ssl::error::stream_truncated;
        } else if (e != 0) {
            ec = net::error_code(static_cast<int>(e), asio::error::get_ssl_category());
        } else if (last_errno != 0) {
            ec = net::error_code(last_errno, boost::system::system_category());
        } else {
            ec = asio::error::fault;
        }
        break;
    }
    }
    ERR_clear_error();
    last_errno = 0;
    return ec;
}

bool usable(net::tcp::socket& sock, net::error_code& ec) {
    if (!sock.is_open()) {
        ec = asio::error::bad_descriptor;
        return false;
    }
    return true;
}

int clamp_len(std::size_t n) {
    return n > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(n);
}

}  // namespace

net::error_code tls_stream::handshake_step(impl& p, handshake_type role) {
    net::error_code ec;
    if (!usable(p.sock, ec)) {
        return ec;
    }
    if (!p.role_set) {
        p.role_set = true;
        if (role == handshake_type::client) {
            SSL_set_connect_state(p.ssl);
        } else {
            SSL_set_accept_state(p.ssl);
        }
    }
    ERR_clear_error();
    const int r = SSL_do_handshake(p.ssl);
    if (r == 1) {
        return {};
    }
    return ssl_failure(p.ssl, r, p.last_errno, p.want);
}

namespace {

// One SSL_read or SSL_write: bytes moved, or 0 with would_block (see wants()) or the error.
template <typename Buffer, typename Call>
std::size_t io_step(tls_stream::impl& p, Buffer buf, net::error_code& ec, Call call) {
    ec = {};
    if (!usable(p.sock, ec) || buf.size() == 0) {
        return 0;
    }
    ERR_clear_error();
    const int r = call(p.ssl, buf.data(), clamp_len(buf.size()));
    if (r > 0) {
        return static_cast<std::size_t>(r);
    }
    ec = ssl_failure(p.ssl, r, p.last_errno, p.want);
    return 0;
}

}  // namespace

std::size_t tls_stream::read_step(impl& p, net::asio::mutable_buffer buf, net::error_code& ec) {
    return io_step(p, buf, ec, SSL_read);
}

std::size_t tls_stream::write_step(impl& p, net::asio::const_buffer buf, net::error_code& ec) {
    return io_step(p, buf, ec, SSL_write);
}

}  // namespace rpcnetd::rpc
