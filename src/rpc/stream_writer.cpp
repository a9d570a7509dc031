#include "rpc/stream_writer.hpp"

#include "common/error.hpp"
#include "rpc/call_context.hpp"
#include "rpc/connection.hpp"

namespace rpcnetd::rpc {

net::awaitable<net::error_code> stream_writer::write(std::string_view message) {
    // Checked before any await: once cancelled, awaiting would throw (the handler's cancellation
    // slot has been emitted).
    if (ctx_.cancelled()) {
        co_return make_error_code(errc::cancelled);
    }
    while (!conn_.has_space() && conn_.is_open()) {
        co_await conn_.wait_for_space();
        if (ctx_.cancelled()) {
            co_return make_error_code(errc::cancelled);
        }
    }
    if (!conn_.is_open()) {
        co_return make_error_code(errc::unavailable);
    }
    conn_.send(frame_type::data, ctx_.stream_id(), message);
    ++written_;
    co_return net::error_code{};
}

}  // namespace rpcnetd::rpc
