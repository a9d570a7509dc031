#pragma once
// The sending half a server-streaming handler gets: one write() per message, each message one
// DATA frame. Messages queued while the connection's writer is busy leave together in its next
// write, so a handler may simply write each message as it is produced.
#include "net/asio.hpp"

#include <cstdint>
#include <string_view>

namespace rpcnetd::rpc {

class call_context;
class connection;

class stream_writer {
public:
    stream_writer(connection& conn, call_context& ctx) noexcept : conn_(conn), ctx_(ctx) {}
    stream_writer(const stream_writer&) = delete;
    stream_writer& operator=(const stream_writer&) = delete;

    // Queues one message (the serialized response message). Waits while the connection's
    // outbound queue is above its watermark (backpressure: a slow reader slows the handler, the
    // queue never grows without bound). Returns success once queued; errc::cancelled when the
    // call was cancelled (by the caller or server stop), errc::unavailable when the connection
    // is gone; the handler should then return. Call on the handler's executor, one write at a
    // time.
    net::awaitable<net::error_code> write(std::string_view message);

    // Messages written so far.
    std::uint64_t written() const noexcept { return written_; }

private:
    connection& conn_;
    call_context& ctx_;
    std::uint64_t written_ = 0;
};

}  // namespace rpcnetd::rpc
