#pragma once
// The client's lossless-failover bookkeeping (DESIGN.md §3 "Streaming and resume"): which token the
// user has seen last, which stream attempt is current, and what to do with each arriving token.
//
// Guarantee: whatever the network and workers do (duplicates, replays, frames from abandoned
// streams, gaps, failovers at any point), the sequence numbers handed to the user are exactly
// first, first+1, … each once, in order. Only a token of the current stream whose sequence is
// last delivered + 1 is delivered; everything else is classified and dropped.
//
// Stream ids are the client's own attempt numbers, not RPC frame stream ids (those restart at 1 on
// every new connection, so a late frame from the old worker could carry the same id as the new
// stream). begin_stream() refuses an id that is not greater than every id used before.
//
// Pure and single-threaded: call from the client's one coroutine/strand.
#include <cstdint>
#include <optional>

namespace rpcnetd::resume {

enum class token_verdict {
    deliver,       // show it to the user; last_delivered() is now this sequence
    duplicate,     // current stream, sequence already delivered (a replay): ignore
    stale_stream,  // from an abandoned (or not yet begun) stream: ignore
    gap,  // current stream skipped ahead: treat as a worker failure; the stream is abandoned
    past_target,  // beyond the requested target: ignore (the stream may be cancelled)
};

enum class end_verdict {
    complete,      // the current stream ended and the target is reached
    premature,     // the current stream ended before the target: fail over and resume
    stale_stream,  // the end of an abandoned stream: ignore
};

class resume_cursor {
public:
    // target: the last sequence wanted (client --tokens N); 0 = unbounded. first: the first
    // sequence the user wants (1 per DESIGN.md).
    explicit resume_cursor(std::uint64_t target = 0, std::uint64_t first = 1);

    // Where the next stream request starts (GenerateRequest.from_sequence) = last delivered + 1.
    std::uint64_t next_from() const noexcept { return last_ + 1; }
    // The last sequence delivered; first - 1 before any delivery.
    std::uint64_t last_delivered() const noexcept { return last_; }
    std::uint64_t delivered_count() const noexcept { return last_ + 1 - first_; }
    std::uint64_t target() const noexcept { return target_; }
    // True once the target is reached (never for an unbounded target).
    bool done() const noexcept { return target_ != 0 && last_ >= target_; }

    // Starts a fresh stream attempt, abandoning the current one. False (and nothing changes) when
    // stream_id is not greater than every id used before.
    bool begin_stream(std::uint64_t stream_id);
    // begin_stream() with the next unused id; returns it.
    std::uint64_t begin_next_stream();
    // The current stream failed (error, reset, idle timeout): its later frames become stale.
    void abandon() noexcept { current_.reset(); }
    std::optional<std::uint64_t> current_stream() const noexcept { return current_; }
    // How many streams were begun (1 + failovers, once streaming).
    std::uint64_t attempts() const noexcept { return attempts_; }

    // Classifies one token; see token_verdict. Never throws.
    token_verdict on_token(std::uint64_t stream_id, std::uint64_t sequence) noexcept;
    // The worker ended stream_id normally (Done). A current stream stops being current.
    end_verdict on_end(std::uint64_t stream_id) noexcept;

private:
    std::uint64_t first_;
    std::uint64_t target_;
    std::uint64_t last_;
    std::optional<std::uint64_t> current_;
    std::uint64_t highest_id_ = 0;
    bool any_stream_ = false;
    std::uint64_t attempts_ = 0;
};

}  // namespace rpcnetd::resume
