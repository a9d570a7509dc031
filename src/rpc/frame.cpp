#include "rpc/frame.hpp"

namespace rpcnetd::rpc {
namespace {

void put_u32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t get_u32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

}  // namespace

void encode_header(const frame_header& h,
                   std::array<std::uint8_t, frame_header_size>& out) noexcept {
    put_u32(out.data(), h.length);
    put_u32(out.data() + 4, h.stream_id);
    out[8] = static_cast<std::uint8_t>(h.type);
    out[9] = h.flags;
    out[10] = 0;
    out[11] = 0;
}

frame_header decode_header(const std::uint8_t* in) noexcept {
    frame_header h;
    h.length = get_u32(in);
    h.stream_id = get_u32(in + 4);
    h.type = static_cast<frame_type>(in[8]);
    h.flags = in[9];
    return h;
}

void append_frame(std::string& out, frame_type type, std::uint32_t stream_id, std::string_view body,
                  std::uint8_t flags) {
    std::array<std::uint8_t, frame_header_size> hdr{};
    encode_header({static_cast<std::uint32_t>(body.size()), stream_id, type, flags}, hdr);
    out.append(reinterpret_cast<const char*>(hdr.data()), hdr.size());
    out.append(body);
}

}  // namespace rpcnetd::rpc
