#include "app/worker/stderr_tail.hpp"

namespace rpcnetd::app::worker {
namespace {
constexpr std::size_t max_logged_line = 512;
}

stderr_tail::stderr_tail(std::size_t capacity, std::size_t lines_per_window)
    : cap_(capacity), per_window_(lines_per_window) {}

std::vector<std::string> stderr_tail::put(std::string_view bytes) {
    if (bytes.size() >= cap_) {
        ring_.assign(bytes.substr(bytes.size() - cap_));
    } else {
        ring_.append(bytes);
        if (ring_.size() > cap_) {
            ring_.erase(0, ring_.size() - cap_);
        }
    }
    std::vector<std::string> lines;
    for (char c : bytes) {
        if (c != '\n') {
            if (partial_.size() < max_logged_line) {
                partial_.push_back(c);
            }
            continue;
        }
        if (logged_ < per_window_) {
            ++logged_;
            lines.push_back(std::move(partial_));
        } else {
            ++skipped_;
        }
        partial_.clear();
    }
    return lines;
}

std::uint64_t stderr_tail::new_window() {
    const auto s = skipped_;
    skipped_ = 0;
    logged_ = 0;
    return s;
}

std::string stderr_tail::tail() const {
    return ring_;
}

}  // namespace rpcnetd::app::worker
