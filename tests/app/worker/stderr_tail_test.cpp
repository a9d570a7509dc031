#include "app/worker/stderr_tail.hpp"

#include <catch2/catch.hpp>

using rpcnetd::app::worker::stderr_tail;

TEST_CASE("stderr_tail: keeps the last bytes and rate-limits logged lines", "[worker]") {
    stderr_tail t(8, 2);
    CHECK(t.put("one\ntw").size() == 1);
    auto lines = t.put("o\nthree\nfour\n");
    REQUIRE(lines.size() == 1);  // "two"; "three" and "four" are over the window's 2
    CHECK(lines[0] == "two");
    CHECK(t.tail() == "ee\nfour\n");
    CHECK(t.new_window() == 2);
    CHECK(t.put("five\n") == std::vector<std::string>{"five"});
    t.put(std::string(100, 'z'));
    CHECK(t.tail() == std::string(8, 'z'));
}
