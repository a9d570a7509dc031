#include "app/worker/token_framer.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using rpcnetd::app::worker::token_framer;
using rpcnetd::cli::exec_framing;

namespace {

// Feeds `input` split at `cut` and collects every token, including the one at finish().
std::vector<std::string> frame(const std::string& input, std::size_t cut, exec_framing f,
                               std::size_t max, bool* overflow = nullptr) {
    token_framer fr(f, max);
    std::vector<std::string> out;
    const auto take = [&] {
        while (auto t = fr.next()) {
            out.emplace_back(*t);
        }
    };
    fr.put(input.substr(0, cut));
    take();
    fr.put(input.substr(cut));
    take();
    if (auto t = fr.finish()) {
        out.emplace_back(*t);
    }
    if (overflow != nullptr) {
        *overflow = fr.overflow();
    }
    return out;
}

}  // namespace

TEST_CASE("token_framer: lines are tokens at every split point", "[worker]") {
    const std::string input = "alpha\nbe ta\r\n\ngamma";
    const std::vector<std::string> want{"alpha", "be ta", "", "gamma"};
    for (std::size_t cut = 0; cut <= input.size(); ++cut) {
        INFO("cut=" << cut);
        CHECK(frame(input, cut, exec_framing::lines, 64) == want);
    }
}

TEST_CASE("token_framer: a line over the limit is an overflow, also before its newline",
          "[worker]") {
    bool overflow = false;
    CHECK(frame("ok\n12345678\nnext\n", 3, exec_framing::lines, 5, &overflow) ==
          std::vector<std::string>{"ok"});
    CHECK(overflow);
    // No newline ever comes: the framer notices as soon as the limit is passed.
    token_framer fr(exec_framing::lines, 4);
    fr.put("abcdefgh");
    CHECK_FALSE(fr.next());
    CHECK(fr.overflow());
    // Exactly the limit is fine.
    CHECK(frame("abcd\n", 5, exec_framing::lines, 4, &overflow) ==
          std::vector<std::string>{"abcd"});
    CHECK_FALSE(overflow);
}

TEST_CASE("token_framer: the buffer holds at most one partial line", "[worker]") {
    token_framer fr(exec_framing::lines, 16);
    for (int i = 0; i < 1000; ++i) {
        fr.put("0123456789\nab");
        while (fr.next()) {
        }
        CHECK(fr.buffered() <= 16);
    }
    CHECK_FALSE(fr.overflow());
}

TEST_CASE("token_framer: chunks are the reads, cut at the limit", "[worker]") {
    token_framer fr(exec_framing::chunks, 4);
    fr.put("ab\ncdefg");
    std::vector<std::string> out;
    while (auto t = fr.next()) {
        out.emplace_back(*t);
    }
    CHECK(out == std::vector<std::string>{"ab\nc", "defg"});
    CHECK_FALSE(fr.finish());
}
