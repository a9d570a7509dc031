// libFuzzer entry point of fuzz_frame_decoder (tests/fuzz/frame_decoder_fuzz.hpp has the target and
// its invariants). Built only with -DRPCNETD_FUZZ=ON (clang); run through scripts/fuzz.sh.
#include "fuzz/frame_decoder_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rpcnetd::fuzz::fuzz_frame_decoder({data, size});
    return 0;
}
