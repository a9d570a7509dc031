#pragma once
// What a server handler knows about the call it serves. Owned by the server connection; valid
// until the handler's coroutine completes. Touch it only on the connection's executor (the I/O
// thread the handler runs on).
#include "common/time.hpp"
#include "net/asio.hpp"

#include <boost/asio/cancellation_signal.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace rpcnetd::rpc {

class call_context {
public:
    call_context(net::asio::any_io_executor ex, std::string method, std::uint32_t stream_id,
                 std::string peer, std::optional<common::time_point> deadline);
    call_context(const call_context&) = delete;
    call_context& operator=(const call_context&) = delete;

    const std::string& method() const noexcept { return method_; }
    std::uint32_t stream_id() const noexcept { return stream_id_; }
    // Remote address "ip:port" of the connection.
    const std::string& peer() const noexcept { return peer_; }
    // With mTLS (--require-client-cert): the role in the caller's verified certificate (the OU
    // of its subject: "director", "worker", "client", ...); empty without mTLS or without an OU.
    const std::string& peer_role() const noexcept { return peer_role_; }
    void set_peer_role(std::string role) { peer_role_ = std::move(role); }
    // Who is calling, for binding state to its caller (director leases): with mTLS
    // "cert:<subject of the verified certificate>", so a reconnecting client is still itself;
    // otherwise "conn:<n>", one value per connection of this server process.
    const std::string& peer_identity() const noexcept { return peer_identity_; }
    void set_peer_identity(std::string id) { peer_identity_ = std::move(id); }
    // Request bytes this call holds against the server's memory budget (limits).
    std::size_t held_bytes() const noexcept { return held_bytes_; }
    void set_held_bytes(std::size_t n) noexcept { held_bytes_ = n; }
    // When the caller stops waiting (from Call.deadline_ms), if it set one. Informational: the
    // client enforces its own timeout and cancels.
    std::optional<common::time_point> deadline() const noexcept { return deadline_; }

    // True once the caller cancelled, the connection was lost, or the server is stopping.
    bool cancelled() const noexcept { return cancelled_; }

    // Completes when the call is cancelled (returns at once if it already is). For handlers that
    // hold a stream open. Besides this, cancellation is also delivered to whatever the handler's
    // coroutine awaits (its asio cancellation slot is emitted), so the next awaited operation
    // fails with operation_aborted (an exception when awaited with use_awaitable).
    net::awaitable<void> wait_cancelled();

    // Connection internals: marks cancelled and wakes the handler.
    void cancel(bool by_peer);
    bool cancelled_by_peer() const noexcept { return by_peer_; }
    net::asio::cancellation_slot slot() noexcept { return signal_.slot(); }

private:
    std::string method_;
    std::uint32_t stream_id_;
    std::string peer_;
    std::string peer_role_;
    std::string peer_identity_;
    std::size_t held_bytes_ = 0;
    std::optional<common::time_point> deadline_;
    bool cancelled_ = false;
    bool by_peer_ = false;
    net::asio::steady_timer cancel_timer_;
    net::asio::cancellation_signal signal_;
};

}  // namespace rpcnetd::rpc
