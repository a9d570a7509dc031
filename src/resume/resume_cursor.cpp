#include "resume/resume_cursor.hpp"

namespace rpcnetd::resume {

resume_cursor::resume_cursor(std::uint64_t target, std::uint64_t first)
    : first_(first == 0 ? 1 : first), target_(target), last_(first_ - 1) {}

bool resume_cursor::begin_stream(std::uint64_t stream_id) {
    if (any_stream_ && stream_id <= highest_id_) {
        return false;
    }
    any_stream_ = true;
    highest_id_ = stream_id;
    current_ = stream_id;
    ++attempts_;
    return true;
}

std::uint64_t resume_cursor::begin_next_stream() {
    const std::uint64_t id = any_stream_ ? highest_id_ + 1 : 1;
    begin_stream(id);
    return id;
}

token_verdict resume_cursor::on_token(std::uint64_t stream_id, std::uint64_t sequence) noexcept {
    if (!current_ || *current_ != stream_id) {
        return token_verdict::stale_stream;
    }
    if (sequence <= last_) {
        return token_verdict::duplicate;
    }
    if (done() || (target_ != 0 && sequence > target_)) {
        return token_verdict::past_target;
    }
    if (sequence != last_ + 1) {
        // Delivering it would lose last+1..sequence-1; resuming from last+1 elsewhere loses
        // nothing.
        current_.reset();
        return token_verdict::gap;
    }
    last_ = sequence;
    return token_verdict::deliver;
}

end_verdict resume_cursor::on_end(std::uint64_t stream_id) noexcept {
    if (!current_ || *current_ != stream_id) {
        return end_verdict::stale_stream;
    }
    current_.reset();
    return done() ? end_verdict::complete : end_verdict::premature;
}

}  // namespace rpcnetd::resume
