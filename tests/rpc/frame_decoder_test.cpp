#include "rpc/frame_decoder.hpp"

#include "common/error.hpp"
#include "rpc/alloc_counter.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <span>
#include <string>
#include <vector>

// Counts large allocations so the test can prove an oversized header allocates nothing.
namespace {
std::atomic<std::size_t> g_large_allocs{0};
constexpr std::size_t large_alloc = 1U << 20U;
}  // namespace

std::size_t rpcnetd::test::large_allocations() {
    return g_large_allocs.load();
}

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer, replacing operator new mixes our allocations with ASan's own (it
// reports alloc-dealloc mismatches); its allocator hook sees every allocation instead.
// Declared here: GCC 12 ships the runtime (libasan exports it) but not allocator_interface.h.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                             std::size_t),
                                                         void (*free_hook)(const volatile void*));
namespace {
void count_malloc(const volatile void*, std::size_t n) {
    if (n >= large_alloc) {
        g_large_allocs.fetch_add(1, std::memory_order_relaxed);
    }
}
void ignore_free(const volatile void*) {}
const int hooks_installed = __sanitizer_install_malloc_and_free_hooks(count_malloc, ignore_free);
}  // namespace
#else
void* operator new(std::size_t n) {
    if (n >= large_alloc) {
        g_large_allocs.fetch_add(1, std::memory_order_relaxed);
    }
    if (void* p = std::malloc(n == 0 ? 1 : n)) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
#endif

namespace rpcnetd::rpc {
namespace {

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string sample_stream() {
    std::string wire;
    append_frame(wire, frame_type::hello, 0, "hello-body");
    append_frame(wire, frame_type::call, 1, std::string(300, 'c'));
    append_frame(wire, frame_type::data, 1, "");
    append_frame(wire, frame_type::end, 1, "x", 0x5);
    append_frame(wire, frame_type::ping, 0, "12345678");
    return wire;
}

// Feeds `wire` in pieces: [0, cut) then [cut, end), collecting frames.
std::vector<frame> feed(frame_decoder& d, const std::string& wire, std::size_t cut,
                        boost::system::error_code& ec) {
    std::vector<frame> out;
    auto all = bytes(wire);
    for (auto part : {all.subspan(0, cut), all.subspan(cut)}) {
        while (!part.empty()) {
            const std::size_t n = d.put(part, ec);
            if (ec) {
                return out;
            }
            part = part.subspan(n);
            if (d.is_done()) {
                out.push_back(d.release());
            }
        }
        if (d.is_done()) {
            out.push_back(d.release());
        }
    }
    return out;
}

}  // namespace

TEST_CASE("frame: header encodes big-endian fields", "[rpc]") {
    std::array<std::uint8_t, frame_header_size> h{};
    encode_header({0x01020304U, 0x0A0B0C0DU, frame_type::goaway, 0x7F}, h);
    const std::array<std::uint8_t, 12> want{1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D, 8, 0x7F, 0, 0};
    REQUIRE(h == want);
    const auto back = decode_header(h.data());
    CHECK(back.length == 0x01020304U);
    CHECK(back.stream_id == 0x0A0B0C0DU);
    CHECK(back.type == frame_type::goaway);
    CHECK(back.flags == 0x7F);
}

TEST_CASE("frame_decoder: multi-frame input split at every byte boundary", "[rpc]") {
    const std::string wire = sample_stream();
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
        frame_decoder d(1024);
        boost::system::error_code ec;
        const auto frames = feed(d, wire, cut, ec);
        INFO("cut=" << cut);
        REQUIRE_FALSE(ec);
        REQUIRE(frames.size() == 5);
        CHECK(frames[0].header.type == frame_type::hello);
        CHECK(frames[0].body == "hello-body");
        CHECK(frames[1].header.stream_id == 1);
        CHECK(frames[1].body == std::string(300, 'c'));
        CHECK(frames[2].header.type == frame_type::data);
        CHECK(frames[2].body.empty());
        CHECK(frames[3].header.flags == 0x5);
        CHECK(frames[3].body == "x");
        CHECK(frames[4].header.type == frame_type::ping);
        CHECK(frames[4].body == "12345678");
    }
}

TEST_CASE("frame_decoder: one byte at a time", "[rpc]") {
    const std::string wire = sample_stream();
    frame_decoder d(1024);
    std::size_t frames = 0;
    for (char c : wire) {
        const std::uint8_t b = static_cast<std::uint8_t>(c);
        boost::system::error_code ec;
        REQUIRE(d.put({&b, 1}, ec) == 1);
        REQUIRE_FALSE(ec);
        if (d.is_done()) {
            (void)d.release();
            ++frames;
        }
    }
    CHECK(frames == 5);
}

TEST_CASE("frame_decoder: oversized header is rejected before allocating", "[rpc]") {
    std::array<std::uint8_t, frame_header_size> h{};
    encode_header({1U << 30U, 1, frame_type::data, 0}, h);  // announces 1 GiB
    frame_decoder d(4U * 1024U * 1024U);
    boost::system::error_code ec;
    const auto before = g_large_allocs.load();
    SECTION("whole header at once") {
        d.put(h, ec);
    }
    SECTION("split header") {
        std::span<const std::uint8_t> s(h);
        for (std::size_t i = 0; i < s.size() && !ec; ++i) {
            d.put(s.subspan(i, 1), ec);
        }
    }
    CHECK(ec == make_error_code(errc::frame_too_large));
    CHECK(g_large_allocs.load() == before);
    // Stays failed.
    const std::uint8_t more[4] = {1, 2, 3, 4};
    CHECK(d.put(more, ec) == 0);
    CHECK(ec == make_error_code(errc::frame_too_large));
}

TEST_CASE("frame_decoder: bad type and reserved bytes are malformed", "[rpc]") {
    std::array<std::uint8_t, frame_header_size> h{};
    encode_header({0, 0, frame_type::ping, 0}, h);
    SECTION("type 0") {
        h[8] = 0;
    }
    SECTION("type 9") {
        h[8] = 9;
    }
    SECTION("type 255") {
        h[8] = 255;
    }
    SECTION("reserved high byte") {
        h[10] = 1;
    }
    SECTION("reserved low byte") {
        h[11] = 0x80;
    }
    frame_decoder d(1024);
    boost::system::error_code ec;
    d.put(h, ec);
    CHECK(ec == make_error_code(errc::malformed_frame));
    CHECK_FALSE(d.is_done());
}

TEST_CASE("frame_decoder: a frame at exactly the maximum is accepted", "[rpc]") {
    std::string wire;
    append_frame(wire, frame_type::data, 3, std::string(64, 'z'));
    frame_decoder d(64);
    boost::system::error_code ec;
    const auto n = d.put(bytes(wire), ec);
    REQUIRE_FALSE(ec);
    CHECK(n == wire.size());
    REQUIRE(d.is_done());
    CHECK(d.release().body.size() == 64);
}

TEST_CASE(
    "frame_decoder: the body buffer grows with the bytes that arrive, not the announced length",
    "[rpc]") {
    constexpr std::uint32_t announced = 4U << 20U;
    std::string wire;
    append_frame(wire, frame_type::call, 1, std::string(announced, 'q'));
    frame_decoder d(announced);
    boost::system::error_code ec;
    const auto before = rpcnetd::test::large_allocations();
    // The header and 100 body bytes of a 4 MiB frame: nothing near 4 MiB is allocated.
    CHECK(d.put(bytes(wire.substr(0, frame_header_size + 100)), ec) == frame_header_size + 100);
    REQUIRE_FALSE(ec);
    CHECK(d.buffered_capacity() <= frame_decoder::initial_reserve);
    CHECK(rpcnetd::test::large_allocations() == before);
    // The rest arrives in 64 KiB pieces: the buffer grows, the frame comes out whole.
    std::size_t at = frame_header_size + 100;
    while (at < wire.size()) {
        const auto n = std::min<std::size_t>(64 * 1024, wire.size() - at);
        CHECK(d.put(bytes(wire.substr(at, n)), ec) == n);
        REQUIRE_FALSE(ec);
        at += n;
        if (at - frame_header_size < announced / 4) {
            CHECK(d.buffered_capacity() <= 2 * (at - frame_header_size) + 64 * 1024);
        }
    }
    REQUIRE(d.is_done());
    const auto f = d.release();
    CHECK(f.body.size() == announced);
    CHECK(f.body == std::string(announced, 'q'));
}

TEST_CASE("frame_decoder: a body skipped at its header is consumed unread and nothing buffered",
          "[rpc]") {
    constexpr std::uint32_t announced = 4U << 20U;
    std::string wire;
    append_frame(wire, frame_type::call, 7, std::string(announced, 'q'));
    append_frame(wire, frame_type::call, 9, "kept");
    frame_decoder d(announced);
    d.stop_after_header(true);
    boost::system::error_code ec;
    const auto before = rpcnetd::test::large_allocations();
    // put() stops after the header, so the caller can judge it before any body byte is kept.
    CHECK(d.put(bytes(wire), ec) == frame_header_size);
    REQUIRE_FALSE(ec);
    REQUIRE(d.has_header());
    CHECK(d.header().stream_id == 7);
    CHECK(d.header().length == announced);
    d.skip_body();
    std::size_t at = frame_header_size;
    const std::size_t first_end = frame_header_size + announced;
    while (at < first_end) {
        const auto n = std::min<std::size_t>(64 * 1024, first_end - at);
        CHECK(d.put(bytes(wire.substr(at, n)), ec) == n);
        REQUIRE_FALSE(ec);
        CHECK(d.buffered_capacity() <=
              std::string().capacity());  // nothing beyond the inline bytes
        at += n;
    }
    REQUIRE(d.is_done());
    const auto skipped = d.release();
    CHECK(skipped.skipped);
    CHECK(skipped.body.empty());
    CHECK(skipped.header.stream_id == 7);
    CHECK(rpcnetd::test::large_allocations() == before);
    // The next frame is read as usual once the caller chooses to.
    CHECK(d.put(bytes(wire.substr(at)), ec) == frame_header_size);
    REQUIRE(d.has_header());
    d.read_body();
    CHECK(d.put(bytes(wire.substr(at + frame_header_size)), ec) == 4);
    REQUIRE(d.is_done());
    const auto kept = d.release();
    CHECK_FALSE(kept.skipped);
    CHECK(kept.body == "kept");
}

}  // namespace rpcnetd::rpc

TEST_CASE("alloc counter: a large allocation is counted (the control for no-allocation checks)",
          "[rpc]") {
    const auto before = rpcnetd::test::large_allocations();
    auto* big = new std::vector<std::uint8_t>(2U << 20U);
    CHECK(rpcnetd::test::large_allocations() > before);
    delete big;
}
