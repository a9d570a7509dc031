// libFuzzer entry point of fuzz_swim_codec (tests/fuzz/swim_codec_fuzz.hpp has the target and its
// invariants). Built only with -DRPCNETD_FUZZ=ON (clang); run through scripts/fuzz.sh.
#include "fuzz/swim_codec_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rpcnetd::fuzz::fuzz_swim_codec({data, size});
    return 0;
}
