#pragma once
// What the client shows its user: emoji-led text lines, or one JSON object per line (DESIGN.md §5):
// {"event":"token","sequence":7,"text":"token-7","worker":"worker-a"}, plus assigned, failover
// (with from and reason), waiting, queued (with position), error (the job itself failed: reason and
// the program's stderr tail) and done. Writes to the given stream and flushes each line. raw: only
// the token texts go to `out`, one per line (a chunk token as is), buffered until flush(); every
// other line goes to `diag` in the text format.
#include "cli/options.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace rpcnetd::app {

class client_printer {
public:
    client_printer(std::ostream& out, cli::client_output format, std::ostream* diag = nullptr)
        : out_(out), diag_(diag != nullptr ? *diag : out), format_(format) {}

    // director: the director that made the assignment (H:P), so a run across several directors
    // shows which one answered.
    // chunk: the token is a piece of a byte stream (worker --exec-framing chunks), printed as is
    // in raw output.
    void assigned(std::string_view worker, std::string_view addr, std::uint64_t from_sequence,
                  std::string_view director);
    void token(std::uint64_t sequence, std::string_view text, std::string_view worker,
               std::uint64_t total, bool chunk = false);
    void failover(std::string_view from, std::string_view reason, std::uint64_t resume_at);
    void waiting(std::string_view reason);
    // Every matching worker is at capacity: the director holds this client at position (1 = next).
    void queued(std::uint64_t position);
    void done(std::uint64_t total, std::uint64_t failovers);
    // The job itself failed (APPLICATION_ERROR): the reason and the program's stderr tail.
    void error(std::string_view reason, std::string_view stderr_tail);
    // Raw output: writes out what the tokens buffered.
    void flush();

private:
    void emit(const std::string& line);
    std::ostream& out_;
    std::ostream& diag_;
    cli::client_output format_;
};

}  // namespace rpcnetd::app
