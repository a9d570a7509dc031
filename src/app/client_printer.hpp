#pragma once
// What the client shows its user: emoji-led text lines, or one JSON object per line (DESIGN.md §5):
// {"event":"token","sequence":7,"text":"token-7","worker":"worker-a"}, plus assigned, failover
// (with from and reason), waiting, queued (with position) and done. Writes to the given stream and flushes each line.
#include "cli/options.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace rpcnetd::app {

class client_printer {
public:
    client_printer(std::ostream& out, cli::client_output format) : out_(out), format_(format) {}

    // director: the director that made the assignment (H:P), so a run across several directors
    // shows which one answered.
    void assigned(std::string_view worker, std::string_view addr, std::uint64_t from_sequence,
                  std::string_view director);
    void token(std::uint64_t sequence, std::string_view text, std::string_view worker,
               std::uint64_t total);
    void failover(std::string_view from, std::string_view reason, std::uint64_t resume_at);
    void waiting(std::string_view reason);
    // Every matching worker is at capacity: the director holds this client at position (1 = next).
    void queued(std::uint64_t position);
    void done(std::uint64_t total, std::uint64_t failovers);

private:
    void emit(const std::string& line);
    std::ostream& out_;
    cli::client_output format_;
};

} // namespace rpcnetd::app
