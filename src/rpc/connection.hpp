#pragma once
// One TLS connection carrying multiplexed RPC streams; the transport half shared by the server
// and client sessions (server_session, client_session derive from it).
//
// Coroutines (all on the connection's executor, each holding a shared_ptr to the connection, so
// the connection lives exactly as long as one of them runs; this is the shared_from_this session
// of STYLE.md §3):
//   run()       TLS handshake, sends Hello, then the reader loop feeding frame_decoder;
//   writer()    the ONE writer: drains the outbound byte queue, one async_write per batch, so every
//               frame queued while a write was in flight leaves in the next single write;
//   watchdog()  handshake deadline (accept -> peer Hello), keep-alive PING, idle timeout, stuck
//               write timeout, and the bound on a graceful close.
// Errors on the wire (malformed or oversized frame, bad Hello, protocol violation) close only this
// connection. Everything here must be called on the connection's executor (single-threaded).
#include "net/asio.hpp"
#include "proto/rpcnetd.pb.h"
#include "rpc/frame_decoder.hpp"
#include "rpc/ping_strikes.hpp"
#include "rpc/rpc_config.hpp"
#include "rpc/tls_stream.hpp"

#include "common/error.hpp"
#include "common/time.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace rpcnetd::rpc {

inline constexpr std::uint32_t protocol_version = 1;

struct connection_options {
    limits lim;
    std::string node_name;
    bool server = false;
};

class connection : public std::enable_shared_from_this<connection> {
public:
    connection(tls_stream stream, connection_options opts);
    virtual ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // Spawns run(), writer() and watchdog(); each keeps the connection alive while it runs.
    void start();

    // Closes at once: pending output is dropped, streams fail with `reason`. Idempotent.
    void close(net::error_code reason);

    // Flushes queued output, then half-closes (FIN) and waits (bounded) for the peer to close.
    void close_after_flush();

    // A limit was broken: tells the peer why (GOAWAY last_stream_id=0 with `why` as the reason,
    // when TLS is up), then closes within a short grace period with `reason`. Idempotent.
    void close_with_goaway(net::error_code reason, std::string_view why);

    bool is_open() const noexcept { return !closed_; }
    bool is_ready() const noexcept { return hello_received_ && !closed_; }
    // True once the TLS handshake completed (stays true after close).
    bool tls_established() const noexcept { return tls_up_; }
    net::error_code close_reason() const noexcept { return close_reason_; }

    // Completes once the peer's Hello arrived or the connection closed (the watchdog bounds it
    // by handshake_timeout). Returns the close reason, or success when ready. tls_enough:
    // already once TLS is up and our own Hello is queued (calls may follow it at once).
    net::awaitable<net::error_code> wait_ready(bool tls_enough = false);

    // Appends one frame to the outbound queue and wakes the writer. Never blocks; callers that
    // produce data use wait_for_space() first so the queue stays bounded.
    void send(frame_type type, std::uint32_t stream_id, std::string_view body);

    // True while the outbound queue is below the watermark.
    bool has_space() const noexcept { return pending_.size() < watermark_; }
    // Completes at the next wake-up: queue space freed, connection closed, or the awaiting
    // coroutine cancelled. Callers loop on has_space() / is_open() and their own state.
    net::awaitable<void> wait_for_space();

    const std::string& peer() const noexcept { return peer_; }
    const v1::Hello& peer_hello() const noexcept { return peer_hello_; }
    const limits& options_limits() const noexcept { return opts_.lim; }
    net::asio::any_io_executor get_executor() { return stream_.get_executor(); }
    tls_stream& stream() noexcept { return stream_; }

protected:
    // Called on the reader's turn for every CALL/DATA/END/CANCEL frame.
    virtual void on_stream_frame(frame f) = 0;
    // Called when the header of such a frame with a non-empty body is complete, before any of
    // the body is buffered: false drops the body unread, and on_stream_frame() then receives the
    // frame with `skipped` set.
    virtual bool on_frame_header(const frame_header& h) {
        (void)h;
        return true;
    }
    virtual void on_ready() {}
    virtual void on_goaway(const v1::GoAway& g) { (void)g; }
    // After close(): fail or cancel every stream. Called once.
    virtual void on_closed(net::error_code reason) { (void)reason; }
    // A connection limit was exceeded (handshake_timeout, idle_timeout, frame_too_large,
    // ping_abuse, queue_overflow); called once per event, before the connection closes.
    virtual void on_limit(errc which) { (void)which; }

    // Inbound bytes buffered for consumers; the reader pauses above limits::max_queued_bytes.
    void inbound_add(std::size_t n) noexcept { inbound_bytes_ += n; }
    void inbound_release(std::size_t n);

    std::shared_ptr<connection> self() { return shared_from_this(); }

private:
    net::awaitable<void> run(std::shared_ptr<connection> self);
    net::awaitable<void> writer(std::shared_ptr<connection> self);
    net::awaitable<void> watchdog(std::shared_ptr<connection> self);
    net::awaitable<void> read_loop();
    bool dispatch(frame f);  // false: protocol error, connection closed
    bool on_hello(const frame& f);
    void wake(net::asio::steady_timer& t) { t.cancel(); }

    tls_stream stream_;
    connection_options opts_;
    std::string peer_;
    frame_decoder decoder_;
    v1::Hello peer_hello_;

    std::string pending_;  // frames queued since the last write started
    std::string writing_;  // the batch being written
    std::size_t watermark_;
    bool writer_idle_ = false;
    bool write_in_flight_ = false;
    common::time_point write_started_{};

    std::size_t inbound_bytes_ = 0;
    bool reader_paused_ = false;

    common::time_point started_{};
    common::time_point last_rx_{};
    bool ping_outstanding_ = false;
    bool hello_received_ = false;
    bool closed_ = false;
    bool closing_ = false;
    common::time_point closing_deadline_{};
    net::error_code close_reason_;
    net::error_code abort_reason_;  // close_with_goaway(): the reason recorded at the final close
    bool tls_up_ = false;

    net::asio::steady_timer writer_signal_;   // writer waits here for output
    net::asio::steady_timer space_signal_;    // producers wait here for queue space
    net::asio::steady_timer inbound_signal_;  // the paused reader waits here
    net::asio::steady_timer ready_signal_;    // wait_ready() waits here
    net::asio::steady_timer watchdog_timer_;
    ping_strikes pings_;
};

}  // namespace rpcnetd::rpc
