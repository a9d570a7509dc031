#include "common/endpoint.hpp"

#include <catch2/catch.hpp>

using rpcnetd::common::parse_endpoint;
using rpcnetd::common::parse_endpoint_list;

TEST_CASE("endpoint: parses host:port forms", "[common]") {
    auto v4 = parse_endpoint("127.0.0.1:61000");
    REQUIRE(v4);
    CHECK(v4->host == "127.0.0.1");
    CHECK(v4->port == 61000);
    auto v6 = parse_endpoint("[::1]:7");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->to_string() == "[::1]:7");
    CHECK(parse_endpoint("localhost:0")->port == 0);
}

TEST_CASE("endpoint: rejects malformed input", "[common]") {
    CHECK_FALSE(parse_endpoint("127.0.0.1"));
    CHECK_FALSE(parse_endpoint(":80"));
    CHECK_FALSE(parse_endpoint("host:"));
    CHECK_FALSE(parse_endpoint("host:65536"));
    CHECK_FALSE(parse_endpoint("host:12x"));
    CHECK_FALSE(parse_endpoint("::1:80"));
    CHECK_FALSE(parse_endpoint_list("a:1,,b:2"));
    auto list = parse_endpoint_list("a:1,b:2");
    REQUIRE(list);
    CHECK(list->size() == 2);
}
