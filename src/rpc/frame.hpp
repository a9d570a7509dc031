#pragma once
// RPC frame header: the fixed 12-byte big-endian prefix of every frame (see
// src/proto/rpcnetd.proto).
//
//   u32 length     body bytes that follow the header (checked against the receiver's maximum
//                  before anything is allocated)
//   u32 stream_id  0 for connection frames (HELLO, PING, PONG, GOAWAY), else the stream
//   u8  type       frame_type below
//   u8  flags      reserved for extensions; sent as 0, ignored on receipt
//   u16 reserved   must be 0
//
// Pure: no I/O, no allocation except in encode_frame/append_frame (which write into caller
// strings).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rpcnetd::rpc {

enum class frame_type : std::uint8_t {
    hello = 1,   // Hello, stream 0, first frame of each side
    call = 2,    // Call: opens stream_id (client -> server)
    data = 3,    // one message of the stream (raw serialized message bytes)
    end = 4,     // End: final status of the stream (server -> client)
    cancel = 5,  // abandon the stream (either direction), empty body
    ping = 6,    // stream 0, opaque body echoed in the PONG
    pong = 7,    // stream 0
    goaway = 8,  // GoAway, stream 0: no new streams above last_stream_id; drain and close
};

inline constexpr std::size_t frame_header_size = 12;
inline constexpr std::uint8_t max_frame_type = 8;

// True for the types above; anything else on the wire is a protocol error.
constexpr bool is_valid_frame_type(std::uint8_t t) noexcept {
    return t >= 1 && t <= max_frame_type;
}

// True for frames that belong to stream 0 (the connection itself).
constexpr bool is_connection_frame(frame_type t) noexcept {
    return t == frame_type::hello || t == frame_type::ping || t == frame_type::pong ||
           t == frame_type::goaway;
}

struct frame_header {
    std::uint32_t length = 0;
    std::uint32_t stream_id = 0;
    frame_type type = frame_type::data;
    std::uint8_t flags = 0;
};

// Writes the 12 header bytes into out.
void encode_header(const frame_header& h,
                   std::array<std::uint8_t, frame_header_size>& out) noexcept;

// Reads the 12 header bytes (no validation; frame_decoder validates).
frame_header decode_header(const std::uint8_t* in) noexcept;

// Appends header + body to out (the connection's outbound buffer). The body must fit in u32.
void append_frame(std::string& out, frame_type type, std::uint32_t stream_id, std::string_view body,
                  std::uint8_t flags = 0);

// A complete frame as the decoder yields it.
struct frame {
    frame_header header;
    std::string body;
    bool skipped = false;  // the receiver dropped the body unread (frame_decoder::skip_body)
};

}  // namespace rpcnetd::rpc
