#pragma once
// Cuts a program's stdout into tokens (worker --exec-framing). Pure, sans-I/O: put() the bytes of
// each read, then take tokens with next() until it returns nothing.
//
//   lines:  one token per line, the "\n" (and a "\r" before it) removed; a last line without
//           "\n" becomes a token at finish(). A line longer than max_token_bytes is an error
//           (the job fails: APPLICATION_ERROR), detected as soon as that many bytes are
//           buffered without a newline, so the buffer never holds more than
//           max_token_bytes + one read.
//   chunks: every put() with data is one token, split into pieces of at most max_token_bytes.
#include "cli/options.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rpcnetd::app::worker {

class token_framer {
public:
    token_framer(cli::exec_framing framing, std::size_t max_token_bytes);

    // Appends bytes read from stdout. Tokens returned by next() before are invalidated.
    void put(std::string_view bytes);
    // The next complete token, valid until the next put(); nullopt when more bytes are needed
    // or after overflow().
    std::optional<std::string_view> next();
    // At end of input: the unterminated rest (lines), if any.
    std::optional<std::string_view> finish();
    // True once a line exceeded max_token_bytes; no more tokens come.
    bool overflow() const noexcept { return overflow_; }
    // Bytes held (bounded by max_token_bytes + the last put()).
    std::size_t buffered() const noexcept { return buf_.size() - pos_; }

private:
    cli::exec_framing framing_;
    std::size_t max_;
    std::string buf_;
    std::size_t pos_ = 0;   // first byte not yet returned
    std::size_t scan_ = 0;  // no newline in [pos_, scan_)
    bool overflow_ = false;
};

}  // namespace rpcnetd::app::worker
