#pragma once
// A random bit generator that returns a script of values, for tests that check exact picks.
// Running past the end of the script is a test failure (it means the code drew more than the
// test expected), reported by throwing.
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

namespace rpcnetd::test {

class scripted_rng {
public:
    using result_type = std::uint64_t;
    explicit scripted_rng(std::vector<std::uint64_t> script) : script_(std::move(script)) {}

    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

    result_type operator()() {
        if (next_ >= script_.size()) {
            throw std::logic_error("scripted_rng: script exhausted");
        }
        return script_[next_++];
    }

    std::size_t draws() const { return next_; }
    bool exhausted() const { return next_ == script_.size(); }

private:
    std::vector<std::uint64_t> script_;
    std::size_t next_ = 0;
};

}  // namespace rpcnetd::test
