#include "rpc/connection.hpp"

#include "common/error.hpp"
#include "common/log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>

#include <algorithm>

namespace rpcnetd::rpc {
namespace {

namespace asio = net::asio;
using common::clock;

// One TLS record carries at most 16 KiB of plaintext, and a read returns at most one record.
constexpr std::size_t read_buffer_size = 16U * 1024U;
// A producer waits once this much output is queued; the writer then takes it all in one write.
constexpr std::size_t max_watermark = 64U * 1024U;
// Output buffers bigger than this are released when they empty, so idle connections stay small.
constexpr std::size_t keep_capacity = 64U * 1024U;
constexpr std::string_view ping_body = "rpcnetd!";
constexpr auto max_close_grace = std::chrono::seconds(5);

spdlog::logger& log() {
    static spdlog::logger& l = common::logger("rpc");
    return l;
}

bool is_quiet_close(const net::error_code& ec) {
    return !ec || ec == asio::error::eof || ec == asio::error::operation_aborted ||
           ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset ||
           ec == asio::error::broken_pipe;
}

// The buffer reads are decrypted into: one per thread, shared by every connection on it. A read
// fills it and the decoder takes everything before the reader awaits anything again, so no
// connection holds a read buffer while it waits (memory per idle connection).
std::uint8_t* read_scratch() {
    thread_local const std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[read_buffer_size]);
    return buf.get();
}

}  // namespace

connection::connection(tls_stream stream, connection_options opts)
    : stream_(std::move(stream)), opts_(std::move(opts)), decoder_(opts_.lim.max_frame),
      watermark_(std::max<std::size_t>(
          1, std::min<std::size_t>(opts_.lim.max_queued_bytes, max_watermark))),
      writer_signal_(stream_.get_executor(), clock::time_point::max()),
      space_signal_(stream_.get_executor(), clock::time_point::max()),
      inbound_signal_(stream_.get_executor(), clock::time_point::max()),
      ready_signal_(stream_.get_executor(), clock::time_point::max()),
      watchdog_timer_(stream_.get_executor()),
      pings_(opts_.lim.min_ping_interval, opts_.lim.max_ping_strikes) {
    net::error_code ec;
    const auto ep = stream_.lowest_layer().remote_endpoint(ec);
    peer_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
    decoder_.stop_after_header(true);
    started_ = last_rx_ = clock::now();
}

connection::~connection() = default;

void connection::start() {
    auto s = shared_from_this();
    asio::co_spawn(get_executor(), watchdog(s), asio::detached);
    asio::co_spawn(get_executor(), run(std::move(s)), asio::detached);
}

net::awaitable<void> connection::run(std::shared_ptr<connection> self) {
    try {
        const auto role =
            opts_.server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client;
        net::error_code ec;
        while ((ec = stream_.try_handshake(role)) == asio::error::would_block && !closed_) {
            auto [wec] = co_await stream_.async_wait_ready(stream_.wants(), net::use_tuple);
            if (wec) {
                ec = wec;
                break;
            }
        }
        if (ec || closed_) {
            close(ec ? ec : close_reason_);
            co_return;
        }
        tls_up_ = true;
        ready_signal_.cancel();  // wait_ready(true) may go on: our Hello is queued first
        v1::Hello hello;
        hello.set_version(protocol_version);
        hello.set_node_name(opts_.node_name);
        hello.set_max_frame(opts_.lim.max_frame);
        hello.set_max_streams(opts_.lim.max_streams_per_connection);
        send(frame_type::hello, 0, hello.SerializeAsString());
        asio::co_spawn(get_executor(), writer(self), asio::detached);
        co_await read_loop();
    } catch (const std::exception& e) {
        log().error("connection failed peer={} error={}", peer_, e.what());
        close(errc::internal);
    }
}

// Over 60 lines on purpose: the per-frame hot path (pause, read, header, body, dispatch) reads as
// one loop, and splitting it would add a coroutine frame per frame read.
net::awaitable<void> connection::read_loop() {
    const std::size_t pause_above = opts_.lim.max_queued_bytes;
    while (!closed_) {
        if (inbound_bytes_ > pause_above) {
            // Consumers are behind: stop reading so TCP pushes back on the peer.
            reader_paused_ = true;
            while (inbound_bytes_ > pause_above / 2 && !closed_) {
                co_await inbound_signal_.async_wait(net::use_tuple);
            }
            reader_paused_ = false;
            continue;
        }
        std::uint8_t* const buf = read_scratch();
        net::error_code ec;
        const std::size_t n = stream_.read_some_now(asio::buffer(buf, read_buffer_size), ec);
        if (ec == asio::error::would_block) {
            // Nothing to read: wait for the socket without holding any buffer.
            auto [wec] = co_await stream_.async_wait_ready(stream_.wants(), net::use_tuple);
            if (wec) {
                close(wec);
                co_return;
            }
            continue;
        }
        if (ec) {
            close(ec);
            co_return;
        }
        last_rx_ = clock::now();
        ping_outstanding_ = false;
        // No co_await from here until `data` is consumed: the scratch buffer is shared.
        std::span<const std::uint8_t> data(buf, n);
        while (!data.empty()) {
            net::error_code derr;
            const std::size_t used = decoder_.put(data, derr);
            if (derr) {
                log().warn("bad frame peer={} error={}", peer_, derr.message());
                if (derr == errc::frame_too_large) {
                    on_limit(errc::frame_too_large);
                    close_with_goaway(derr, "frame too large");
                } else {
                    close(derr);
                }
                co_return;
            }
            data = data.subspan(used);
            if (decoder_.has_header()) {
                // Before its body arrives, a stream frame may be refused unread (memory budget).
                const auto& h = decoder_.header();
                if (hello_received_ && !is_connection_frame(h.type) && !on_frame_header(h)) {
                    decoder_.skip_body();
                } else {
                    decoder_.read_body();
                }
            }
            if (decoder_.is_done()) {
                if (!dispatch(decoder_.release()) || closed_) {
                    co_return;
                }
            }
        }
        // Let the work this chunk produced run first (the writer sending the answers, callers
        // resuming) before re-arming the read: the answer leaves one read attempt earlier.
        co_await asio::post(get_executor(), net::use_awaitable);
    }
}

bool connection::dispatch(frame f) {
    const frame_type t = f.header.type;
    if (!hello_received_) {
        if (t != frame_type::hello || f.header.stream_id != 0) {
            log().warn("protocol error peer={} first frame is not hello", peer_);
            close(errc::malformed_frame);
            return false;
        }
        return on_hello(f);
    }
    if (is_connection_frame(t) != (f.header.stream_id == 0)) {
        log().warn("protocol error peer={} type={} stream={}", peer_, static_cast<int>(t),
                   f.header.stream_id);
        close(errc::malformed_frame);
        return false;
    }
    switch (t) {
    case frame_type::ping:
        if (pings_.on_ping(last_rx_)) {
            log().warn("ping flood peer={} strikes={}", peer_, pings_.strikes());
            on_limit(errc::ping_abuse);
            close_with_goaway(errc::ping_abuse, "too many pings");
            return false;
        }
        send(frame_type::pong, 0, f.body);
        return true;
    case frame_type::pong:
        return true;
    case frame_type::goaway: {
        v1::GoAway g;
        if (!g.ParseFromString(f.body)) {
            close(errc::malformed_frame);
            return false;
        }
        on_goaway(g);
        return true;
    }
    case frame_type::hello:
        log().warn("protocol error peer={} second hello", peer_);
        close(errc::malformed_frame);
        return false;
    default:
        on_stream_frame(std::move(f));
        return true;
    }
}

bool connection::on_hello(const frame& f) {
    if (!peer_hello_.ParseFromString(f.body)) {
        close(errc::malformed_frame);
        return false;
    }
    if (peer_hello_.version() != protocol_version) {
        log().warn("hello rejected peer={} version={}", peer_, peer_hello_.version());
        close(errc::protocol_version);
        return false;
    }
    hello_received_ = true;
    ready_signal_.cancel();
    watchdog_timer_.cancel();  // it slept until the handshake deadline: switch to keep-alive
    on_ready();
    return !closed_;
}

void connection::send(frame_type type, std::uint32_t stream_id, std::string_view body) {
    if (closed_) {
        return;
    }
    if (pending_.size() + body.size() > opts_.lim.max_queued_bytes) {
        // The peer is not reading (e.g. it floods calls or pings and never reads the answers):
        // dropping this connection is the only bound that does not grow.
        log().warn("outbound queue full peer={} queued={}", peer_, pending_.size());
        on_limit(errc::queue_overflow);
        close(errc::queue_overflow);
        return;
    }
    append_frame(pending_, type, stream_id, body);
    if (writer_idle_) {
        writer_idle_ = false;
        writer_signal_.cancel();
    }
}

net::awaitable<void> connection::wait_for_space() {
    if (!has_space() && !closed_) {
        co_await space_signal_.async_wait(net::use_tuple);
    }
}

net::awaitable<net::error_code> connection::wait_ready(bool tls_enough) {
    while (!hello_received_ && !(tls_enough && tls_up_) && !closed_) {
        co_await ready_signal_.async_wait(net::use_tuple);
    }
    if (closed_) {
        co_return close_reason_ ? close_reason_ : make_error_code(errc::unavailable);
    }
    co_return net::error_code{};
}

void connection::inbound_release(std::size_t n) {
    inbound_bytes_ -= std::min(n, inbound_bytes_);
    if (reader_paused_ && inbound_bytes_ <= opts_.lim.max_queued_bytes / 2) {
        inbound_signal_.cancel();
    }
}

net::awaitable<void> connection::writer(std::shared_ptr<connection> self) {
    try {
        while (!closed_) {
            if (pending_.empty()) {
                if (closing_) {
                    // Everything is flushed: FIN, then the reader waits for the peer's close.
                    net::error_code ignored;
                    stream_.lowest_layer().shutdown(net::tcp::socket::shutdown_send, ignored);
                    co_return;
                }
                writer_idle_ = true;
                co_await writer_signal_.async_wait(net::use_tuple);
                writer_idle_ = false;
                continue;
            }
            // Take every queued frame at once: one write, one SSL_write batch.
            writing_.swap(pending_);
            space_signal_.cancel();
            write_in_flight_ = true;
            write_started_ = clock::now();
            net::error_code ec;
            std::size_t done = 0;
            while (done < writing_.size()) {
                done += stream_.write_some_now(
                    asio::buffer(writing_.data() + done, writing_.size() - done), ec);
                if (ec == asio::error::would_block) {
                    auto [wec] = co_await stream_.async_wait_ready(stream_.wants(), net::use_tuple);
                    ec = wec;
                }
                if (ec) {
                    break;
                }
            }
            write_in_flight_ = false;
            if (ec) {
                close(ec);
                co_return;
            }
            if (writing_.capacity() > keep_capacity) {
                std::string().swap(writing_);
            } else {
                writing_.clear();
            }
        }
    } catch (const std::exception& e) {
        log().error("writer failed peer={} error={}", peer_, e.what());
        close(errc::internal);
    }
    (void)self;
}

net::awaitable<void> connection::watchdog(std::shared_ptr<connection> self) {
    const auto& lim = opts_.lim;
    try {
        while (!closed_) {
            const auto now = clock::now();
            auto next = clock::time_point::max();
            if (closing_) {
                if (now >= closing_deadline_) {
                    close(abort_reason_);
                    break;
                }
                next = closing_deadline_;
            }
            if (abort_reason_) {
                // close_with_goaway() ran: only the grace deadline above is left to enforce.
                watchdog_timer_.expires_at(next);
                co_await watchdog_timer_.async_wait(net::use_tuple);
                continue;
            }
            if (!hello_received_) {
                const auto deadline = started_ + lim.handshake_timeout;
                if (now >= deadline) {
                    log().info("handshake timeout peer={}", peer_);
                    on_limit(errc::handshake_timeout);
                    close_with_goaway(errc::handshake_timeout, "handshake timeout");
                    continue;
                }
                next = std::min(next, deadline);
            } else {
                const auto idle_deadline = last_rx_ + lim.idle_timeout;
                if (now >= idle_deadline ||
                    (write_in_flight_ && now >= write_started_ + lim.idle_timeout)) {
                    log().info("idle timeout peer={}", peer_);
                    on_limit(errc::idle_timeout);
                    close_with_goaway(errc::idle_timeout, "idle timeout");
                    continue;
                }
                next = std::min(next, idle_deadline);
                if (write_in_flight_) {
                    next = std::min(next, write_started_ + lim.idle_timeout);
                }
                if (lim.keepalive_interval.count() > 0) {
                    const auto ping_at = last_rx_ + lim.keepalive_interval;
                    if (now >= ping_at && !ping_outstanding_) {
                        ping_outstanding_ = true;
                        send(frame_type::ping, 0, ping_body);
                    }
                    next = std::min(next, std::max(ping_at, now + lim.keepalive_interval));
                }
            }
            watchdog_timer_.expires_at(next);
            co_await watchdog_timer_.async_wait(net::use_tuple);
        }
    } catch (const std::exception& e) {
        log().error("watchdog failed peer={} error={}", peer_, e.what());
        close(errc::internal);
    }
    (void)self;
}

void connection::close_after_flush() {
    if (closed_ || closing_) {
        return;
    }
    closing_ = true;
    closing_deadline_ =
        clock::now() + std::min<common::duration>(opts_.lim.idle_timeout, max_close_grace);
    watchdog_timer_.cancel();
    if (writer_idle_) {
        writer_idle_ = false;
        writer_signal_.cancel();
    }
}

void connection::close_with_goaway(net::error_code reason, std::string_view why) {
    if (closed_) {
        return;
    }
    if (!tls_up_ || closing_) {
        close(reason);  // nobody to tell (no TLS yet) or already closing
        return;
    }
    v1::GoAway g;
    g.set_last_stream_id(0);
    g.set_reason(std::string(why));
    send(frame_type::goaway, 0, g.SerializeAsString());
    abort_reason_ = reason;
    close_after_flush();
    // A short grace: the GOAWAY needs one write, and the peer broke a limit.
    closing_deadline_ = std::min(closing_deadline_, clock::now() + std::chrono::seconds(1));
}

void connection::close(net::error_code reason) {
    if (closed_) {
        return;
    }
    closed_ = true;
    close_reason_ = reason;
    if (is_quiet_close(reason)) {
        log().debug("connection closed peer={} reason={}", peer_, reason.message());
    } else {
        log().info("connection closed peer={} reason={}", peer_, reason.message());
    }
    net::error_code ignored;
    stream_.lowest_layer().close(ignored);
    writer_signal_.cancel();
    space_signal_.cancel();
    inbound_signal_.cancel();
    ready_signal_.cancel();
    watchdog_timer_.cancel();
    std::string().swap(pending_);
    on_closed(reason);
}

}  // namespace rpcnetd::rpc
