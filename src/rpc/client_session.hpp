#pragma once
// Client side of one connection: numbers streams (1, 2, 3, ...), sends CALL/CANCEL, routes
// DATA/END/CANCEL to the waiting call by stream id, honours GOAWAY. Internal to rpc::channel.
#include "rpc/connection.hpp"
#include "rpc/status.hpp"

#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace rpcnetd::rpc::detail {

// One stream as the client sees it. Touched only on the connection's executor.
struct call_state {
    call_state(net::asio::any_io_executor ex, std::uint32_t stream_id, bool unary_call);

    std::uint32_t id;
    bool unary;
    std::deque<std::string> inbox;  // DATA bodies not yet taken
    std::optional<status> end;      // final status once known
    bool transport_error = false;   // end came from the connection, not an END frame
    bool waiting = false;
    net::asio::steady_timer wake;  // the one consumer waits here (deadline = its timeout)
};

class client_session final : public connection {
public:
    client_session(tls_stream stream, connection_options opts,
                   std::shared_ptr<boost::asio::ssl::context> ssl);

    // Sends CALL for a new stream. When the connection is closed or draining (GOAWAY), the state
    // comes back already ended with UNAVAILABLE.
    std::shared_ptr<call_state> open(std::string_view method, std::string request,
                                     common::duration timeout, bool unary_call);

    // The consumer is done with the stream: sends CANCEL if it has not ended, forgets it.
    void abandon(call_state& st);

    // The consumer took `n` inbox bytes.
    void consumed(std::size_t n) { inbound_release(n); }

    std::size_t stream_count() const noexcept { return streams_.size(); }

protected:
    void on_stream_frame(frame f) override;
    void on_goaway(const v1::GoAway& g) override;
    std::string goaway_message() const;
    void on_closed(net::error_code reason) override;

private:
    void finish(call_state& st, status s, bool transport);
    void maybe_close_drained();

    std::shared_ptr<boost::asio::ssl::context> ssl_;  // outlives the SSL object
    std::unordered_map<std::uint32_t, std::shared_ptr<call_state>> streams_;
    std::uint32_t next_id_ = 1;
    bool goaway_ = false;
    std::uint32_t goaway_last_ = 0;
    std::string goaway_reason_;
    std::string scratch_;
    v1::Call call_msg_;
};

}  // namespace rpcnetd::rpc::detail
