// libFuzzer entry point of fuzz_proto_bodies (tests/fuzz/proto_bodies_fuzz.hpp has the target and
// its invariants). Built only with -DRPCNETD_FUZZ=ON (clang); run through scripts/fuzz.sh.
#include "fuzz/proto_bodies_fuzz.hpp"

#include <google/protobuf/stubs/logging.h>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // libprotobuf logs every string field with invalid UTF-8; millions of those lines would bury
    // libFuzzer's statistics.
    google::protobuf::SetLogHandler(nullptr);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    rpcnetd::fuzz::fuzz_proto_bodies({data, size});
    return 0;
}
