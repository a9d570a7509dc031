#include "common/json.hpp"

#include <catch2/catch.hpp>

using rpcnetd::common::json_object;

TEST_CASE("json: objects and escaping", "[common]") {
    CHECK(json_object().add("event", "token").add("sequence", std::uint64_t{7}).str() ==
          R"({"event":"token","sequence":7})");
    CHECK(json_object().add("s", "a\"b\\c\n\x01").str() == R"({"s":"a\"b\\c\n\u0001"})");
    CHECK(json_object().add("tags", {{"role", "worker"}, {"gpu", "true"}}).str() ==
          R"({"tags":{"gpu":"true","role":"worker"}})");
    CHECK(json_object().str() == "{}");
}
