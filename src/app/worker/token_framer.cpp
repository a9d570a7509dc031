#include "app/worker/token_framer.hpp"

#include <algorithm>

namespace rpcnetd::app::worker {

token_framer::token_framer(cli::exec_framing framing, std::size_t max_token_bytes)
    : framing_(framing), max_(std::max<std::size_t>(1, max_token_bytes)) {}

void token_framer::put(std::string_view bytes) {
    if (pos_ > 0) {
        // Drop what was returned; what remains is one partial line (< max_ bytes).
        buf_.erase(0, pos_);
        scan_ -= pos_;
        pos_ = 0;
    }
    buf_.append(bytes);
}

std::optional<std::string_view> token_framer::next() {
    if (overflow_ || pos_ == buf_.size()) {
        return std::nullopt;
    }
    const std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
    if (framing_ == cli::exec_framing::chunks) {
        const auto n = std::min(max_, rest.size());
        pos_ += n;
        scan_ = pos_;
        return rest.substr(0, n);
    }
    const auto from = scan_ - pos_;
    const auto nl = rest.find('\n', from);
    if (nl == std::string_view::npos) {
        scan_ = buf_.size();
        if (rest.size() > max_) {
            overflow_ = true;
        }
        return std::nullopt;
    }
    auto line = rest.substr(0, nl);
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    if (line.size() > max_) {
        overflow_ = true;
        return std::nullopt;
    }
    pos_ += nl + 1;
    scan_ = pos_;
    return line;
}

std::optional<std::string_view> token_framer::finish() {
    if (overflow_ || pos_ == buf_.size()) {
        return std::nullopt;
    }
    if (framing_ == cli::exec_framing::chunks) {
        return next();
    }
    std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
    if (rest.size() > max_) {
        overflow_ = true;
        return std::nullopt;
    }
    pos_ = buf_.size();
    scan_ = pos_;
    return rest;
}

}  // namespace rpcnetd::app::worker
