#pragma once
// The benchmark methods (the same work as the gRPC comparison harness's bench.proto), served by
// workers and the standalone bench server:
//   unary  "Bench.Echo"    EchoMsg -> the same EchoMsg
//   stream "Bench.Stream"  StreamReq{count, hold} -> `count` BenchToken messages, token
//                          "token-%010u" with sequence 0..count-1, one frame per token, each
//                          written as produced; hold=true: one token, then the stream stays open
//                          (sending nothing) until the caller cancels it.
#include "rpc/server.hpp"

#include <string>

namespace rpcnetd::app {

// Registers both methods on `srv` (before srv.start()). worker_label is informational (logs).
void register_bench_service(rpc::server& srv, std::string worker_label);

// The 16-byte token for `sequence` ("token-0000000042").
std::string bench_token(std::uint64_t sequence);

}  // namespace rpcnetd::app
