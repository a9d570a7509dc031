#pragma once
// Shared pieces of the fuzz targets (issue #5 item 4).
//
// Every target is one function `void fuzz_<name>(std::span<const std::uint8_t>)` in a header of
// this folder. Two callers use them: the libFuzzer mains in tests/fuzz/targets/ (clang,
// -fsanitize=fuzzer,address,undefined; built with -DRPCNETD_FUZZ=ON) and
// tests/fuzz/corpus_replay_test.cpp, which replays the committed corpus in the normal g++ Catch2
// run (and under ASan/UBSan in CI).
//
// A broken invariant throws fuzz::invariant_violation: Catch2 reports it as a failed test with the
// message; under libFuzzer the uncaught exception aborts, which libFuzzer records as a crash and
// saves as an artifact. Code under test never throws on untrusted input (STYLE.md §4), so any
// other exception escaping a target is a finding too.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

namespace rpcnetd::fuzz {

struct invariant_violation : std::logic_error {
    using std::logic_error::logic_error;
};

#define RPCNETD_FUZZ_STR2(x) #x
#define RPCNETD_FUZZ_STR(x) RPCNETD_FUZZ_STR2(x)
#define RPCNETD_FUZZ_CHECK(cond)                                                                   \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            throw ::rpcnetd::fuzz::invariant_violation(__FILE__                                    \
                                                       ":" RPCNETD_FUZZ_STR(__LINE__) ": " #cond); \
        }                                                                                          \
    } while (0)

// Reads the fuzz input front to back. Past the end every read yields zeros / empty spans, so a
// target never has to check lengths (the fuzzer learns quickly which bytes matter).
class byte_reader {
public:
    explicit byte_reader(std::span<const std::uint8_t> data) : data_(data) {}

    bool empty() const { return pos_ >= data_.size(); }
    std::size_t remaining() const { return data_.size() - pos_; }

    std::uint8_t u8() { return empty() ? std::uint8_t{0} : data_[pos_++]; }
    std::uint16_t u16() {
        const auto hi = u8();
        return static_cast<std::uint16_t>((hi << 8) | u8());
    }
    std::uint32_t u32() {
        const std::uint32_t hi = u16();
        return (hi << 16) | u16();
    }
    std::uint64_t u64() {
        const std::uint64_t hi = u32();
        return (hi << 32) | u32();
    }
    // Up to n bytes (fewer at the end of the input).
    std::span<const std::uint8_t> bytes(std::size_t n) {
        const std::size_t k = n < remaining() ? n : remaining();
        auto out = data_.subspan(pos_, k);
        pos_ += k;
        return out;
    }
    // A string of u8-length (capped at max) bytes.
    std::string str(std::size_t max = 255) {
        std::size_t n = u8();
        if (n > max) {
            n = max;
        }
        const auto b = bytes(n);
        return {reinterpret_cast<const char*>(b.data()), b.size()};
    }
    std::span<const std::uint8_t> rest() { return bytes(remaining()); }

private:
    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
};

inline std::span<const std::uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace rpcnetd::fuzz
