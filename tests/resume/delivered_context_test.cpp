#include "resume/delivered_context.hpp"

#include <catch2/catch.hpp>

using rpcnetd::resume::delivered_context;

TEST_CASE("delivered_context: lines end with newline, chunks are kept as they are", "[client]") {
    delivered_context c(100);
    c.add("one", false);
    c.add("tw", true);
    c.add("o\n", true);
    const auto [text, dropped] = c.view();
    CHECK(text == "one\ntwo\n");
    CHECK(dropped == 0);
}

TEST_CASE("delivered_context: keeps the last limit bytes and counts the dropped ones", "[client]") {
    delivered_context c(10);
    std::string all;
    for (int i = 0; i < 100; ++i) {
        const std::string t = "t" + std::to_string(i);
        c.add(t, false);
        all += t + "\n";
        const auto [text, dropped] = c.view();
        REQUIRE(text.size() == std::min<std::size_t>(10, all.size()));
        CHECK(text == std::string_view(all).substr(all.size() - text.size()));
        CHECK(dropped == all.size() - text.size());
    }
    delivered_context none(0);
    none.add("abc", false);
    CHECK(none.view().first.empty());
    CHECK(none.view().second == 4);
}
