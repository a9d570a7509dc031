#include "balance/tag_filter.hpp"

#include "common/error.hpp"

#include <catch2/catch.hpp>

using rpcnetd::balance::tag_filter;
using rpcnetd::balance::tag_filter_error;
using rpcnetd::balance::tag_map;

namespace {
std::string error_of(std::string_view text) {
    auto r = tag_filter::parse(text);
    REQUIRE(std::holds_alternative<tag_filter_error>(r));
    return std::get<tag_filter_error>(r).message;
}
tag_filter ok(std::string_view text) {
    auto r = tag_filter::parse(text);
    REQUIRE(std::holds_alternative<tag_filter>(r));
    return std::get<tag_filter>(r);
}
}  // namespace

TEST_CASE("tag_filter: parses k=v lists", "[balance]") {
    CHECK(ok("").empty());
    CHECK(ok("   ").empty());
    CHECK(ok("gpu=a100").required() == tag_map{{"gpu", "a100"}});
    CHECK(ok("gpu=a100,zone=eu").required() == tag_map{{"gpu", "a100"}, {"zone", "eu"}});
    CHECK(ok(" gpu = a100 , zone=eu ").required() == tag_map{{"gpu", "a100"}, {"zone", "eu"}});
    CHECK(ok("zone=eu,gpu=a100").to_string() == "gpu=a100,zone=eu");
    const auto f = ok("label=worker-a,role=worker");
    CHECK(ok(f.to_string()) == f);
}

TEST_CASE("tag_filter: bad input gives a clear error, never a throw", "[balance]") {
    CHECK_THAT(error_of("gpu"), Catch::Contains("\"gpu\"") && Catch::Contains("no '='"));
    CHECK_THAT(error_of("a=1,,b=2"), Catch::Contains("empty item"));
    CHECK_THAT(error_of("a=1,"), Catch::Contains("empty item"));
    CHECK_THAT(error_of(",a=1"), Catch::Contains("empty item"));
    CHECK_THAT(error_of("=x"), Catch::Contains("empty key"));
    CHECK_THAT(error_of("k="), Catch::Contains("empty value"));
    CHECK_THAT(error_of("k=a=b"), Catch::Contains("'='"));
    CHECK_THAT(error_of("my key=v"), Catch::Contains("spaces"));
    CHECK_THAT(error_of("a=1,a=2"), Catch::Contains("\"a\"") && Catch::Contains("more than once"));
}

TEST_CASE("tag_filter: parse_or_throw reports a usage error naming the input", "[balance]") {
    CHECK(tag_filter::parse_or_throw("a=1").required() == tag_map{{"a", "1"}});
    CHECK_THROWS_AS(tag_filter::parse_or_throw("a"), rpcnetd::usage_error);
    CHECK_THROWS_WITH(tag_filter::parse_or_throw("a,b"),
                      Catch::Contains("invalid filter \"a,b\"") && Catch::Contains("no '='"));
}

TEST_CASE("tag_filter: all tags must match", "[balance]") {
    const tag_map tags{{"role", "worker"}, {"label", "worker-a"}, {"gpu", "a100"}};
    CHECK(tag_filter{}.matches(tags));
    CHECK(tag_filter{}.matches({}));
    CHECK(ok("gpu=a100").matches(tags));
    CHECK(ok("gpu=a100,role=worker").matches(tags));
    CHECK_FALSE(ok("gpu=h100").matches(tags));
    CHECK_FALSE(ok("gpu=a100,zone=eu").matches(tags));
    CHECK_FALSE(ok("GPU=a100").matches(tags));
    CHECK_FALSE(ok("gpu=a100").matches({}));
}
