// libFuzzer entry point of fuzz_swim_state (tests/fuzz/swim_state_fuzz.hpp has the target and its
// invariants). Built only with -DRPCNETD_FUZZ=ON (clang); run through scripts/fuzz.sh.
#include "fuzz/swim_state_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rpcnetd::fuzz::fuzz_swim_state({data, size});
    return 0;
}
