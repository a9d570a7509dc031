#include "common/utf8.hpp"

#include <catch2/catch.hpp>

#include <string>

using rpcnetd::common::valid_utf8;

TEST_CASE("utf8: accepts well-formed text of every length", "[common]") {
    CHECK(valid_utf8(""));
    CHECK(valid_utf8("worker-a"));
    CHECK(valid_utf8("zone=é"));            // 2 bytes
    CHECK(valid_utf8("\xE2\x82\xAC"));      // € (3 bytes)
    CHECK(valid_utf8("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates
    CHECK(valid_utf8("\xF0\x9F\x9F\xA2"));  // 🟢 (4 bytes)
    CHECK(valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
    CHECK(valid_utf8(std::string("a\0b", 3)));
}

TEST_CASE("utf8: refuses what protobuf would refuse", "[common]") {
    CHECK_FALSE(valid_utf8("\xFF"));
    CHECK_FALSE(valid_utf8("\x80"));              // lone continuation byte
    CHECK_FALSE(valid_utf8("\xC3"));              // truncated
    CHECK_FALSE(valid_utf8("\xE2\x82"));          // truncated
    CHECK_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
    CHECK_FALSE(valid_utf8("\xE0\x80\xAF"));      // overlong
    CHECK_FALSE(valid_utf8("\xF0\x80\x80\xAF"));  // overlong
    CHECK_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
    CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(valid_utf8("\xF5\x80\x80\x80"));
    CHECK_FALSE(valid_utf8("ok\xE2\x28\xA1"));  // bad continuation
}

#include "proto/rpcnetd.pb.h"

#include <google/protobuf/stubs/logging.h>

#include <random>

TEST_CASE("utf8: agrees with protobuf's own check on random strings", "[common]") {
    google::protobuf::LogSilencer quiet;  // protobuf logs every refusal
    std::mt19937 gen(7);
    std::size_t accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string s(gen() % 6, '\0');
        for (auto& c : s) {
            // Mostly bytes >= 0x80 so that multi-byte forms, valid or not, are common.
            c = static_cast<char>(gen() % 4 == 0 ? gen() % 0x80 : 0x80 + gen() % 0x80);
        }
        std::string wire{'\x0A', static_cast<char>(s.size())};  // ClusterEvent.kind, length
        wire += s;
        rpcnetd::v1::ClusterEvent e;
        const bool parsed = e.ParseFromString(wire);
        INFO("bytes: " << s.size());
        REQUIRE(valid_utf8(s) == parsed);
        accepted += parsed ? 1 : 0;
    }
    CHECK(accepted > 1000);  // both sides of the rule were exercised
    CHECK(accepted < 19000);
}
