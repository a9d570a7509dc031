#pragma once
// fuzz_frame_decoder: rpc::frame_decoder on arbitrary byte streams.
//
// Input: byte 0 picks max_body (0, 16, 1024 or the real default limits{}.max_frame), byte 1
// seeds the chunking, the rest is the stream a peer sends. The stream is decoded three ways --
// all at once, in random chunks, and one byte per put() for short streams -- and each result must
// equal an independent reference parse of the same bytes (frames, error, bytes consumed).
// A fourth decode stops after each header and skips the bodies of odd streams: the same frames
// with those bodies empty and marked skipped. Invariants checked on every put(): consumed <=
// offered; progress (no error, not done and input left means something was consumed); a released
// frame has body.size() == header.length <= max_body, a valid type, and re-encodes to the exact
// header bytes; after an error put() consumes nothing and repeats the error.
#include "fuzz/fuzz_support.hpp"
#include "rpc/frame_decoder.hpp"
#include "rpc/rpc_config.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <array>
#include <random>
#include <vector>

namespace rpcnetd::fuzz {

namespace frame_fuzz {

struct outcome {
    std::vector<rpc::frame> frames;
    boost::system::error_code ec;
    std::size_t consumed = 0;
};

inline std::uint32_t be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

// What the framing rules in rpcnetd.proto say the decoder must produce.
inline outcome reference(std::span<const std::uint8_t> s, std::uint32_t max_body) {
    outcome out;
    std::size_t pos = 0;
    while (s.size() - pos >= rpc::frame_header_size) {
        const std::uint8_t* h = s.data() + pos;
        if (!rpc::is_valid_frame_type(h[8]) || h[10] != 0 || h[11] != 0) {
            out.ec = errc::malformed_frame;
            out.consumed = pos + rpc::frame_header_size;
            return out;
        }
        const std::uint32_t len = be32(h);
        if (len > max_body) {
            out.ec = errc::frame_too_large;
            out.consumed = pos + rpc::frame_header_size;
            return out;
        }
        if (s.size() - pos - rpc::frame_header_size < len) {
            break;  // incomplete frame: everything is consumed, nothing yielded
        }
        rpc::frame f;
        f.header = {len, be32(h + 4), static_cast<rpc::frame_type>(h[8]), h[9]};
        const auto* body = reinterpret_cast<const char*>(h + rpc::frame_header_size);
        f.body.assign(body, len);
        out.frames.push_back(std::move(f));
        pos += rpc::frame_header_size + len;
    }
    out.consumed = s.size();
    return out;
}

// With skip_odd, the decoder stops after each header and the bodies of odd streams are skipped.
inline bool skipped_in(const rpc::frame_header& h, bool skip_odd) {
    return skip_odd && h.length > 0 && h.stream_id % 2 == 1;
}

// Feeds s to a fresh decoder in chunks of the sizes next_chunk() returns (each >= 1).
template <class NextChunk>
outcome decode(std::span<const std::uint8_t> s, std::uint32_t max_body, NextChunk next_chunk,
               bool skip_odd = false) {
    rpc::frame_decoder d(max_body);
    d.stop_after_header(skip_odd);
    outcome out;
    std::size_t pos = 0;
    while (pos < s.size() && !out.ec) {
        const auto chunk = s.subspan(pos, std::min(next_chunk(), s.size() - pos));
        std::size_t off = 0;
        while (true) {
            boost::system::error_code ec;
            const auto rest = chunk.subspan(off);
            const std::size_t used = d.put(rest, ec);
            RPCNETD_FUZZ_CHECK(used <= rest.size());
            off += used;
            if (ec) {
                out.ec = ec;
                boost::system::error_code again;
                RPCNETD_FUZZ_CHECK(d.put(chunk.subspan(off), again) == 0);
                RPCNETD_FUZZ_CHECK(again == ec);
                RPCNETD_FUZZ_CHECK(!d.is_done());
                break;
            }
            if (d.has_header()) {
                RPCNETD_FUZZ_CHECK(skip_odd && d.header().length > 0);
                if (skipped_in(d.header(), skip_odd)) {
                    d.skip_body();
                } else {
                    d.read_body();
                }
            }
            if (d.is_done()) {
                rpc::frame f = d.release();
                RPCNETD_FUZZ_CHECK(f.header.length <= max_body);
                RPCNETD_FUZZ_CHECK(f.skipped == skipped_in(f.header, skip_odd));
                RPCNETD_FUZZ_CHECK(f.body.size() == (f.skipped ? 0 : f.header.length));
                RPCNETD_FUZZ_CHECK(
                    rpc::is_valid_frame_type(static_cast<std::uint8_t>(f.header.type)));
                out.frames.push_back(std::move(f));
                continue;
            }
            if (off == chunk.size()) {
                break;
            }
            RPCNETD_FUZZ_CHECK(used > 0);  // not done, no error, input left: must progress
        }
        pos += off;
    }
    out.consumed = pos;
    return out;
}

inline void check_same(const outcome& got, const outcome& want) {
    RPCNETD_FUZZ_CHECK(got.ec == want.ec);
    RPCNETD_FUZZ_CHECK(got.consumed == want.consumed);
    RPCNETD_FUZZ_CHECK(got.frames.size() == want.frames.size());
    for (std::size_t i = 0; i < got.frames.size(); ++i) {
        const auto& a = got.frames[i];
        const auto& b = want.frames[i];
        RPCNETD_FUZZ_CHECK(a.header.length == b.header.length);
        RPCNETD_FUZZ_CHECK(a.header.stream_id == b.header.stream_id);
        RPCNETD_FUZZ_CHECK(a.header.type == b.header.type);
        RPCNETD_FUZZ_CHECK(a.header.flags == b.header.flags);
        RPCNETD_FUZZ_CHECK(a.body == b.body);
        RPCNETD_FUZZ_CHECK(a.skipped == b.skipped);
        // encode_header/decode_header agree with the bytes on the wire.
        std::array<std::uint8_t, rpc::frame_header_size> raw{};
        rpc::encode_header(a.header, raw);
        const auto back = rpc::decode_header(raw.data());
        RPCNETD_FUZZ_CHECK(back.length == a.header.length && back.stream_id == a.header.stream_id &&
                           back.type == a.header.type && back.flags == a.header.flags);
        RPCNETD_FUZZ_CHECK(raw[10] == 0 && raw[11] == 0);
    }
}

}  // namespace frame_fuzz

inline void fuzz_frame_decoder(std::span<const std::uint8_t> data) {
    byte_reader in(data);
    static constexpr std::array<std::uint32_t, 4> max_bodies{0, 16, 1024, rpc::limits{}.max_frame};
    const std::uint32_t max_body = max_bodies[in.u8() & 3U];
    std::minstd_rand chunk_rng(in.u8() + 1U);
    const auto stream = in.rest();

    const auto want = frame_fuzz::reference(stream, max_body);
    frame_fuzz::check_same(frame_fuzz::decode(stream, max_body, [] { return SIZE_MAX; }), want);
    std::uniform_int_distribution<std::size_t> chunk(1, 40);
    frame_fuzz::check_same(frame_fuzz::decode(stream, max_body, [&] { return chunk(chunk_rng); }),
                           want);
    // Bodies skipped unread at their header: the same frames and bytes consumed, those bodies
    // empty.
    auto want_skipped = want;
    for (auto& f : want_skipped.frames) {
        if (frame_fuzz::skipped_in(f.header, true)) {
            f.body.clear();
            f.skipped = true;
        }
    }
    frame_fuzz::check_same(frame_fuzz::decode(
                               stream, max_body, [&] { return chunk(chunk_rng); }, true),
                           want_skipped);
    if (stream.size() <= 512) {
        frame_fuzz::check_same(frame_fuzz::decode(stream, max_body, [] { return std::size_t{1}; }),
                               want);
    }

    // append_frame writes what the decoder reads back.
    for (const auto& f : want.frames) {
        std::string wire;
        rpc::append_frame(wire, f.header.type, f.header.stream_id, f.body, f.header.flags);
        const auto again = frame_fuzz::reference(as_bytes(wire), max_body);
        RPCNETD_FUZZ_CHECK(!again.ec && again.frames.size() == 1);
        RPCNETD_FUZZ_CHECK(again.frames[0].body == f.body);
    }
}

}  // namespace rpcnetd::fuzz
