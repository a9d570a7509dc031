#pragma once
// Sans-I/O frame decoder in the shape of Beast's basic_parser: the caller feeds whatever bytes it
// read with put(), which consumes them up to the end of the current frame; once is_done() is true
// the caller takes the frame with release() and goes on feeding the rest.
//
// The header's length is checked against max_body before the body buffer is allocated, and the
// buffer then grows with the bytes that actually arrive (at most initial_reserve up front), so a
// peer announcing a large frame and sending little of it costs little.
//
// With stop_after_header(true), put() also stops once a header with a non-empty body is complete
// (has_header()): the caller looks at header() and either calls skip_body() -- the body's bytes
// are then consumed and dropped, and the released frame has `skipped` set and an empty body -- or
// read_body() (a put() without either reads the body). This is how a server refuses a request it
// has no memory budget for without buffering it (the memory budget in rpc_config.hpp).
//
// Errors (untrusted input) are values:
//   errc::frame_too_large  header length > max_body
//   errc::malformed_frame  unknown frame type or non-zero reserved bytes
// After an error the decoder stays failed (every later put() reports the same error); the
// connection that owns it is expected to close.
//
// Pure: no I/O, no clock.
#include "rpc/frame.hpp"

#include <boost/system/error_code.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace rpcnetd::rpc {

class frame_decoder {
public:
    explicit frame_decoder(std::uint32_t max_body) noexcept : max_body_(max_body) {}

    // Consumes bytes of `data` until the current frame is complete or the input runs out.
    // Returns the number of bytes consumed. Consumes nothing while a finished frame waits to be
    // released, or after an error.
    std::size_t put(std::span<const std::uint8_t> data, boost::system::error_code& ec);

    // A complete frame is ready.
    bool is_done() const noexcept { return state_ == state::done; }

    // See the comment at the top: stop after each header with a body (default: don't).
    void stop_after_header(bool stop) noexcept { stop_after_header_ = stop; }
    // A header with a body is complete and waits for read_body() or skip_body().
    bool has_header() const noexcept { return state_ == state::head; }
    // The header of the frame being read (valid from has_header() until release()).
    const frame_header& header() const noexcept { return current_.header; }
    // Preconditions: has_header().
    void read_body();
    void skip_body() noexcept;

    // Hands out the finished frame and starts the next one. Precondition: is_done().
    frame release();

    std::uint32_t max_body() const noexcept { return max_body_; }
    // Bytes reserved for the frame being read (memory accounting and tests).
    std::size_t buffered_capacity() const noexcept { return current_.body.capacity(); }

    // Body bytes reserved when a header arrives; beyond that the buffer grows as bytes arrive.
    static constexpr std::size_t initial_reserve = 16 * 1024;

private:
    enum class state { header, head, body, skip, done, failed };

    boost::system::error_code validate_header();

    std::uint32_t max_body_;
    state state_ = state::header;
    std::array<std::uint8_t, frame_header_size> hdr_buf_{};
    std::size_t hdr_have_ = 0;
    std::size_t skipped_ = 0;  // body bytes dropped so far (state::skip)
    bool stop_after_header_ = false;
    frame current_;
    boost::system::error_code failure_;
};

}  // namespace rpcnetd::rpc
