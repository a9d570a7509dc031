#pragma once
// Number of allocations of 1 MiB or more made by this test process so far (operator new is
// replaced in frame_decoder_test.cpp to count them).
#include <cstddef>

namespace rpcnetd::test {
std::size_t large_allocations();
}
