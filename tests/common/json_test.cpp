#include "common/json.hpp"

#include <catch2/catch.hpp>

#include <limits>

using rpcnetd::common::json_object;

TEST_CASE("json: objects and escaping", "[common]") {
    CHECK(json_object().add("event", "token").add("sequence", std::uint64_t{7}).str() ==
          R"({"event":"token","sequence":7})");
    CHECK(json_object().add("s", "a\"b\\c\n\x01").str() == R"({"s":"a\"b\\c\n\u0001"})");
    CHECK(json_object().add("tags", {{"role", "worker"}, {"gpu", "true"}}).str() ==
          R"({"tags":{"gpu":"true","role":"worker"}})");
    CHECK(json_object().str() == "{}");
    CHECK(json_object().add_array("addrs", {"a", "b\"", "\xff"}).str() ==
          "{\"addrs\":[\"a\",\"b\\\"\",\"\xEF\xBF\xBD\"]}");
}

TEST_CASE("json: booleans, numbers, nested objects, insertion order", "[common]") {
    json_object inner;
    inner.add("z", std::uint64_t{1}).add("a", std::uint64_t{2});
    CHECK(json_object()
              .add("ok", true)
              .add("no", false)
              .add("ms", 0.413)
              .add("zero", 0.0)
              .add("nan", std::numeric_limits<double>::quiet_NaN())
              .add("inner", inner)
              .str() ==
          R"({"ok":true,"no":false,"ms":0.413,"zero":0,"nan":0,"inner":{"z":1,"a":2}})");
}

TEST_CASE("json: text that is not UTF-8 still makes valid JSON", "[common]") {
    // A lone continuation byte and a truncated sequence become U+FFFD; valid text is kept.
    CHECK(json_object()
              .add("name", "a\x80"
                           "b\xE2\x82")
              .add("ok", "\xE2\x82\xAC")
              .str() == "{\"name\":\"a\xEF\xBF\xBD"
                        "b\xEF\xBF\xBD\xEF\xBF\xBD\",\"ok\":\"\xE2\x82\xAC\"}");
    std::string out;
    rpcnetd::common::append_json_string(out, "q\"\x1f");
    CHECK(out == R"("q\"\u001f")");
}
