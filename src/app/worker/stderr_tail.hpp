#pragma once
// A program's stderr as the worker keeps it (pure): the last `capacity` bytes for the
// APPLICATION_ERROR status, and complete lines for the worker's log, rate-limited per job so a
// chatty program cannot flood the log (the count of skipped lines is reported instead).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rpcnetd::app::worker {

class stderr_tail {
public:
    // capacity: bytes kept for the status (4 KiB). lines_per_window: lines logged per window.
    explicit stderr_tail(std::size_t capacity = 4096, std::size_t lines_per_window = 20);

    // Appends bytes; returns the complete lines that may be logged now (window = the caller's
    // clock tick: call new_window() when it advances). Long lines are cut at 512 bytes.
    std::vector<std::string> put(std::string_view bytes);
    // Starts a new rate window; returns how many lines were skipped in the last one.
    std::uint64_t new_window();
    // The last <= capacity bytes seen.
    std::string tail() const;

private:
    std::size_t cap_;
    std::size_t per_window_;
    std::string ring_;     // last cap_ bytes
    std::string partial_;  // current line (cut at 512 bytes)
    std::size_t logged_ = 0;
    std::uint64_t skipped_ = 0;
};

}  // namespace rpcnetd::app::worker
