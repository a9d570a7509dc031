// The fence of the pure cores (docs/architecture.md, "Layers"). CMake force-includes this header
// (-include) into every translation unit of a pure-core library (failure, membership core,
// balance, resume, rpc frame codec). It poisons the identifiers that only Asio and clock reads
// use, so a pure core that includes Asio, or reads a clock, does not compile:
//   error: attempt to use poisoned "asio"
// Durations and time points stay allowed: pure cores are given common::time_point values.
//
// #pragma GCC poison applies to every token after it, system headers included, so the standard
// and project headers that legitimately spell a poisoned name (in declarations, not reads) are
// included first; their include guards then skip them. Works with g++ and clang++.
#pragma once

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <sys/time.h>
#include <time.h>

#include "common/time.hpp"

#pragma GCC poison asio
#pragma GCC poison steady_clock system_clock high_resolution_clock utc_clock tai_clock gps_clock
#pragma GCC poison file_clock
#pragma GCC poison clock gettimeofday clock_gettime timespec_get ftime
