#include "resume/delivered_context.hpp"

namespace rpcnetd::resume {

void delivered_context::add(std::string_view text, bool chunk) {
    const std::size_t n = text.size() + (chunk ? 0 : 1);
    if (limit_ == 0) {
        dropped_ += n;
        return;
    }
    text_.append(text);
    if (!chunk) {
        text_.push_back('\n');
    }
    if (text_.size() > 2 * limit_) {
        const auto cut = text_.size() - limit_;
        text_.erase(0, cut);
        dropped_ += cut;
    }
}

std::pair<std::string_view, std::uint64_t> delivered_context::view() const {
    const auto extra = text_.size() > limit_ ? text_.size() - limit_ : 0;
    return {std::string_view(text_).substr(extra), dropped_ + extra};
}

}  // namespace rpcnetd::resume
