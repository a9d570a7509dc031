#pragma once
// The text of the tokens the user has received, as a worker with `--resume continue` gets it back
// with a resumed call (GenerateRequest.context): each line token followed by "\n", chunk tokens
// as they were. Keeps the last `limit` bytes (client --resume-context-limit) and counts the bytes
// dropped before them (GenerateRequest.context_dropped). Holds at most 2 * limit bytes: the front
// is cut in one go when that is reached, so adding a token is amortised O(its size).
//
// Pure and single-threaded: the client's one coroutine.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace rpcnetd::resume {

class delivered_context {
public:
    explicit delivered_context(std::size_t limit) : limit_(limit) {}

    // A delivered token; chunk = it carries its own newlines (worker --exec-framing chunks).
    void add(std::string_view text, bool chunk);
    // The last `limit` bytes, and how many bytes before them were dropped.
    std::pair<std::string_view, std::uint64_t> view() const;

private:
    std::size_t limit_;
    std::string text_;
    std::uint64_t dropped_ = 0;
};

}  // namespace rpcnetd::resume
