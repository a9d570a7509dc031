#include "rpc/frame_decoder.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace rpcnetd::rpc {

boost::system::error_code frame_decoder::validate_header() {
    if (!is_valid_frame_type(hdr_buf_[8])) {
        return errc::malformed_frame;
    }
    if (hdr_buf_[10] != 0 || hdr_buf_[11] != 0) {
        return errc::malformed_frame;
    }
    current_.header = decode_header(hdr_buf_.data());
    if (current_.header.length > max_body_) {
        return errc::frame_too_large;
    }
    return {};
}

std::size_t frame_decoder::put(std::span<const std::uint8_t> data, boost::system::error_code& ec) {
    ec = {};
    std::size_t used = 0;
    if (state_ == state::failed) {
        ec = failure_;
        return 0;
    }
    if (state_ == state::header) {
        const std::size_t n = std::min(frame_header_size - hdr_have_, data.size());
        std::memcpy(hdr_buf_.data() + hdr_have_, data.data(), n);
        hdr_have_ += n;
        used += n;
        if (hdr_have_ < frame_header_size) {
            return used;
        }
        if (auto bad = validate_header()) {
            state_ = state::failed;
            failure_ = bad;
            ec = bad;
            return used;
        }
        if (current_.header.length == 0) {
            state_ = state::done;
            return used;
        }
        state_ = state::head;
        if (stop_after_header_) {
            return used;
        }
    }
    if (state_ == state::head) {
        read_body();  // the caller did not choose: the body is read
    }
    if (state_ == state::body) {
        const std::size_t want = current_.header.length - current_.body.size();
        const std::size_t n = std::min(want, data.size() - used);
        current_.body.append(reinterpret_cast<const char*>(data.data() + used), n);
        used += n;
        if (current_.body.size() == current_.header.length) {
            state_ = state::done;
        }
    }
    if (state_ == state::skip) {
        const std::size_t n = std::min(current_.header.length - skipped_, data.size() - used);
        skipped_ += n;
        used += n;
        if (skipped_ == current_.header.length) {
            state_ = state::done;
        }
    }
    return used;
}

void frame_decoder::read_body() {
    // Allocation happens only here, after the length passed the check in put(), and not for the
    // announced length: a peer that announces max_body and sends a trickle (on many streams and
    // connections) would otherwise pin max_body per frame. append() grows the buffer
    // geometrically as the bytes come.
    current_.body.clear();
    current_.body.reserve(std::min<std::size_t>(current_.header.length, initial_reserve));
    state_ = state::body;
}

void frame_decoder::skip_body() noexcept {
    current_.skipped = true;
    skipped_ = 0;
    state_ = state::skip;
}

frame frame_decoder::release() {
    frame out = std::move(current_);
    current_ = frame{};
    hdr_have_ = 0;
    skipped_ = 0;
    state_ = state::header;
    return out;
}

}  // namespace rpcnetd::rpc
