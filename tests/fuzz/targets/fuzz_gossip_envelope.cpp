// libFuzzer entry point of fuzz_gossip_envelope (tests/fuzz/gossip_envelope_fuzz.hpp has the target
// and its invariants). Built only with -DRPCNETD_FUZZ=ON (clang); run through scripts/fuzz.sh.
#include "fuzz/gossip_envelope_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rpcnetd::fuzz::fuzz_gossip_envelope({data, size});
    return 0;
}
