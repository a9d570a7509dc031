#include "common/time.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using rpcnetd::common::format_duration;
using rpcnetd::common::parse_duration;

TEST_CASE("time: durations need units", "[common]") {
    CHECK(parse_duration("500ms") == std::optional<rpcnetd::common::duration>(500ms));
    CHECK(parse_duration("2s") == std::optional<rpcnetd::common::duration>(2s));
    CHECK(parse_duration("0ms") == std::optional<rpcnetd::common::duration>(0ms));
    CHECK(parse_duration("1m") == std::optional<rpcnetd::common::duration>(60s));
    CHECK(parse_duration("250us") == std::optional<rpcnetd::common::duration>(250us));
    CHECK_FALSE(parse_duration("100"));
    CHECK_FALSE(parse_duration("ms"));
    CHECK_FALSE(parse_duration("-5s"));
    CHECK_FALSE(parse_duration("5 s"));
    CHECK_FALSE(parse_duration("99999999999999999999s"));
    CHECK(format_duration(1500ms) == "1500ms");
    CHECK(format_duration(2s) == "2s");
}
