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
    CHECK_FALSE(parse_endpoint("[[a]:1"));
    CHECK_FALSE(parse_endpoint("a b:1"));
    CHECK_FALSE(parse_endpoint("a/b:1"));
    CHECK_FALSE(parse_endpoint(std::string("a\0b:1", 5)));
    CHECK_FALSE(parse_endpoint(std::string(256, 'h') + ":1"));
    auto list = parse_endpoint_list("a:1,b:2");
    REQUIRE(list);
    CHECK(list->size() == 2);
}

TEST_CASE("endpoint: every valid host prints and parses back unchanged", "[common]") {
    using rpcnetd::common::endpoint;
    using rpcnetd::common::valid_host;
    for (const char* host : {"127.0.0.1", "::1", "fe80::1%eth0", "localhost", "a-b.example"}) {
        REQUIRE(valid_host(host));
        const endpoint e{host, 61000};
        const auto back = parse_endpoint(e.to_string());
        REQUIRE(back);
        CHECK(*back == e);
    }
    for (const char* host : {"", ":", "a:b", "[", "]", "a,b", "a b", "[::1]"}) {
        CHECK_FALSE(valid_host(host));
    }
}
