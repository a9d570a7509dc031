// Replays the committed fuzz corpus (tests/fuzz/corpus/<target>/) through the same entry
// functions the libFuzzer targets call, so every CI run -- the ASan/UBSan build included --
// re-checks every seed and every past crash (files named regress-*) without clang or libFuzzer.
#include "fuzz/frame_decoder_fuzz.hpp"
#include "fuzz/gossip_envelope_fuzz.hpp"
#include "fuzz/proto_bodies_fuzz.hpp"
#include "fuzz/swim_codec_fuzz.hpp"
#include "fuzz/swim_state_fuzz.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/stubs/logging.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace {

namespace fs = std::filesystem;

using target_fn = void (*)(std::span<const std::uint8_t>);

std::vector<fs::path> corpus_files(const std::string& target) {
    const fs::path dir = fs::path(RPCNETD_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / target;
    std::vector<fs::path> files;
    if (fs::is_directory(dir)) {
        for (const auto& e : fs::directory_iterator(dir)) {
            if (e.is_regular_file()) {
                files.push_back(e.path());
            }
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::uint8_t> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void replay(const std::string& target, target_fn fn) {
    const auto files = corpus_files(target);
    REQUIRE(files.size() >= 10);  // a corpus that vanished is a failure, not a pass
    for (const auto& f : files) {
        const auto bytes = read_file(f);
        INFO(target << " input " << f.filename().string() << " (" << bytes.size() << " bytes)");
        REQUIRE_NOTHROW(fn(bytes));
    }
}

}  // namespace

TEST_CASE("fuzz corpus: frame_decoder", "[fuzz]") {
    replay("frame_decoder", rpcnetd::fuzz::fuzz_frame_decoder);
}

TEST_CASE("fuzz corpus: gossip_envelope", "[fuzz]") {
    replay("gossip_envelope", rpcnetd::fuzz::fuzz_gossip_envelope);
}

TEST_CASE("fuzz corpus: swim_codec", "[fuzz]") {
    replay("swim_codec", rpcnetd::fuzz::fuzz_swim_codec);
}

TEST_CASE("fuzz corpus: swim_state", "[fuzz]") {
    replay("swim_state", rpcnetd::fuzz::fuzz_swim_state);
}

TEST_CASE("fuzz corpus: proto_bodies", "[fuzz]") {
    const google::protobuf::LogSilencer quiet;  // invalid UTF-8 in string fields is logged
    replay("proto_bodies", rpcnetd::fuzz::fuzz_proto_bodies);
}

TEST_CASE("fuzz targets: empty and one-byte inputs", "[fuzz]") {
    for (const target_fn fn : {rpcnetd::fuzz::fuzz_frame_decoder,
                               rpcnetd::fuzz::fuzz_gossip_envelope, rpcnetd::fuzz::fuzz_swim_codec,
                               rpcnetd::fuzz::fuzz_swim_state, rpcnetd::fuzz::fuzz_proto_bodies}) {
        REQUIRE_NOTHROW(fn({}));
        for (int b = 0; b < 256; ++b) {
            const std::array<std::uint8_t, 1> one{static_cast<std::uint8_t>(b)};
            REQUIRE_NOTHROW(fn(std::span<const std::uint8_t>(one)));
        }
    }
}
