#pragma once
// Large blocks go back to the kernel when freed. glibc serves blocks above M_MMAP_THRESHOLD
// (128 KiB) with their own mmap, returned by munmap on free -- but its dynamic threshold rises
// to the size of every such block freed (up to 32 MiB), so after the first 4 MiB request is
// freed, every later one comes from the heap, where freed space stays resident between and after
// the blocks still held (measured: a worker that had held 64 MiB of 4 MiB requests kept 50 MiB
// resident after they all ended). Fixing the threshold keeps request-sized blocks mmap'd: RSS
// follows the bytes actually held (the same worker returned to its start). Smaller blocks keep
// glibc's heap.
//
// Called once at start, before threads exist. A no-op with another C library or under a
// sanitizer (whose allocator maps large blocks itself).
#include <cstddef>

namespace rpcnetd::common {

// Blocks of at least this many bytes are mmap'd (one frame of 1 MiB and up: a request, an
// answer batch, a frame buffer that grew).
inline constexpr std::size_t large_block_bytes = 1024 * 1024;

// Returns true when the allocator took the setting.
bool return_large_blocks(std::size_t threshold = large_block_bytes);

}  // namespace rpcnetd::common
