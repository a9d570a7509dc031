#pragma once
// The receiving end of a server-streaming call (rpc::channel::open_stream). Move-only; destroying
// an unfinished stream cancels it (CANCEL is sent, later frames for it are ignored). Use it on the
// channel's executor; one next() at a time.
#include "common/time.hpp"
#include "net/asio.hpp"
#include "rpc/status.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace rpcnetd::rpc {

namespace detail {
struct call_state;
struct channel_handle;
}  // namespace detail

struct stream_item {
    enum class kind {
        message,   // `message` holds the next serialized message
        finished,  // the server ended the stream; `st` is its final status (OK or not)
        timeout,   // nothing arrived within the idle timeout; the stream is still open
        error,     // the stream is over without a server status: `st` is UNAVAILABLE
                   // (connection lost / server going away) or CANCELLED (after cancel())
    };
    kind what = kind::error;
    std::string message;
    status st;
};

class client_stream {
public:
    client_stream() = default;
    client_stream(std::shared_ptr<detail::channel_handle> handle,
                  std::shared_ptr<detail::call_state> state) noexcept;
    client_stream(client_stream&&) noexcept = default;
    client_stream& operator=(client_stream&& other) noexcept;
    client_stream(const client_stream&) = delete;
    client_stream& operator=(const client_stream&) = delete;
    ~client_stream();

    // Next message, or the end, or a timeout after `idle_timeout` without any message. Messages
    // already received are returned without waiting. After `finished`/`error` every further call
    // returns the same end again. If the awaiting coroutine is cancelled, this throws
    // operation_aborted (as any awaited asio operation) and the stream stays usable.
    net::awaitable<stream_item> next(common::duration idle_timeout);

    // Abandons the stream: CANCEL goes to the server (whose handler sees cancellation); next()
    // then returns kind::error with CANCELLED. Idempotent.
    void cancel();

    // Stream id on the connection (0 when the stream could not be opened).
    std::uint32_t id() const noexcept;
    // True when next() would return a message without waiting (one is already received).
    bool buffered() const noexcept;
    // True once the end (server status or error) has been seen by next() or cancel().
    bool done() const noexcept;

private:
    std::shared_ptr<detail::channel_handle> handle_;
    std::shared_ptr<detail::call_state> state_;
};

}  // namespace rpcnetd::rpc
