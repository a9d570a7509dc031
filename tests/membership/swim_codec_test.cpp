#include "membership/swim_codec.hpp"

#include "common/error.hpp"

#include <catch2/catch.hpp>

using namespace rpcnetd::membership;
using namespace rpcnetd::membership::wire;

namespace {

std::vector<message> sample() {
    return {
        ping_msg{7, "node-b"},
        ping_req_msg{8, "node-c", {"10.0.0.3", 7946}},
        ack_msg{9},
        nack_msg{10},
        alive_msg{"node-d", {"::1", 61000}, (5ull << 32) | 3, {{"role", "worker"}, {"label", "w"}}},
        suspect_msg{"node-e", 42, "node-a"},
        failed_msg{"node-f", 43, "node-a"},
        left_msg{"node-g", 44}};
}

}  // namespace

TEST_CASE("swim_codec: every message round-trips", "[membership]") {
    const auto msgs = sample();
    const auto bytes = encode_packet("node-a", msgs);
    CHECK(bytes.size() > header_size("node-a"));
    auto p = decode_packet(bytes);
    REQUIRE(p.has_value());
    CHECK(p->sender == "node-a");
    REQUIRE(p->messages.size() == msgs.size());
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        CHECK(p->messages[i] == msgs[i]);
    }
}

TEST_CASE("swim_codec: every truncation is rejected", "[membership]") {
    const auto bytes = encode_packet("node-a", sample());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
        auto p = decode_packet(cut);
        CHECK_FALSE(p.has_value());
    }
    SECTION("trailing bytes are rejected") {
        auto longer = bytes;
        longer.push_back(0);
        CHECK_FALSE(decode_packet(longer).has_value());
    }
}

TEST_CASE("swim_codec: corrupt lengths and counts are rejected", "[membership]") {
    const std::vector<message> one{ping_msg{1, "x"}};
    const auto good = encode_packet("s", one);
    REQUIRE(decode_packet(good).has_value());
    // layout: [0] version, [1] name len, [2] 's', [3] count, [4] type, [5..6] len, body
    SECTION("wrong version") {
        auto b = good;
        b[0] = 2;
        auto p = decode_packet(b);
        REQUIRE_FALSE(p.has_value());
        CHECK(p.error() == rpcnetd::make_error_code(rpcnetd::errc::protocol_version));
    }
    SECTION("name longer than the datagram") {
        auto b = good;
        b[1] = 200;
        CHECK_FALSE(decode_packet(b).has_value());
    }
    SECTION("empty sender") {
        std::vector<std::uint8_t> b{1, 0, 1, 3, 0, 4, 0, 0, 0, 1};
        CHECK_FALSE(decode_packet(b).has_value());
    }
    SECTION("count larger than the datagram holds") {
        auto b = good;
        b[3] = 255;
        CHECK_FALSE(decode_packet(b).has_value());
    }
    SECTION("zero count") {
        std::vector<std::uint8_t> b{1, 1, 's', 0};
        CHECK_FALSE(decode_packet(b).has_value());
    }
    SECTION("body length past the end") {
        auto b = good;
        b[6] = 0xff;
        CHECK_FALSE(decode_packet(b).has_value());
    }
    SECTION("body length shorter than the body") {
        auto b = good;
        b[6] = static_cast<std::uint8_t>(b[6] - 1);
        CHECK_FALSE(decode_packet(b).has_value());
    }
    SECTION("string length inside a body overruns the body") {
        auto b = good;
        b[11] = 9;  // ping target length
        CHECK_FALSE(decode_packet(b).has_value());
    }
    SECTION("too many tags") {
        std::vector<std::uint8_t> b{1, 1, 's', 1, 5, 0, 15, 1, 'n', 1, 'h',
                                    0, 1, 0,   0, 0, 0, 0,  0, 0,   1, 200};
        CHECK_FALSE(decode_packet(b).has_value());
    }
    SECTION("unknown types are skipped by length") {
        std::vector<std::uint8_t> b{1, 1, 's', 2, 99, 0, 2, 0xaa, 0xbb, 3, 0, 4, 0, 0, 0, 5};
        auto p = decode_packet(b);
        REQUIRE(p.has_value());
        REQUIRE(p->messages.size() == 1);
        CHECK(p->messages[0] == message{ack_msg{5}});
    }
}

TEST_CASE("swim_codec: random garbage never throws", "[membership]") {
    std::uint64_t x = 88172645463325252ull;
    int accepted = 0;
    for (int i = 0; i < 20000; ++i) {
        std::vector<std::uint8_t> b(static_cast<std::size_t>(x % 64));
        for (auto& c : b) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c = static_cast<std::uint8_t>(x);
        }
        if (!b.empty()) {
            b[0] = 1;
        }
        CHECK_NOTHROW(accepted += decode_packet(b).has_value() ? 1 : 0);
    }
    CHECK(accepted < 20000);
}

TEST_CASE("swim_codec: an address that would not print and parse back is malformed",
          "[membership]") {
    // The command line's rule (common::valid_host) applies to addresses peers send us.
    const std::vector<std::string> hosts{"", ":", "a:b", "[::1]", "a b", std::string("a\0b", 3)};
    for (const auto& host : hosts) {
        const std::vector<message> msgs{alive_msg{"node-d", {host, 61000}, 1, {}}};
        INFO("host '" << host << "'");
        CHECK_FALSE(decode_packet(encode_packet("node-a", msgs)).has_value());
        const std::vector<message> req{ping_req_msg{8, "node-c", {host, 7946}}};
        CHECK_FALSE(decode_packet(encode_packet("node-a", req)).has_value());
    }
}

TEST_CASE("swim_codec: an alive message with an empty name is malformed", "[membership]") {
    // Found by the swim_codec fuzzer: the decoder accepted a nameless member that swim_state would
    // never store (wire::well_formed). What the codec decodes must be storable.
    const std::vector<message> nameless{alive_msg{"", {"127.0.0.1", 61000}, 1, {}}};
    CHECK_FALSE(decode_packet(encode_packet("node-a", nameless)).has_value());
    const std::vector<message> named{alive_msg{"node-d", {"127.0.0.1", 61000}, 1, {}}};
    CHECK(decode_packet(encode_packet("node-a", named)).has_value());
}
