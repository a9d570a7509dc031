#pragma once
// `rpcnetd bench`: the four phases of the gRPC comparison harness's PROTOCOL.md against a server
// that serves Bench.Echo and Bench.Stream (a worker, or tests/bench/rpc_bench_server):
//   unary    closed loop, `concurrency` calls in flight on ONE connection, `payload`-byte EchoMsg,
//            warm-up then a measured window; calls/s, nearest-rank p50/p90/p99/p99.9/max
//   stream   one warm-up stream, then `streams` x `count` tokens at once on one connection, every
//            sequence number checked; tokens/s
//   connect  new TLS connection + first 64 B echo, warmup_iters + iters; total p50/p99, and a
//            second loop split into ready (TCP+TLS+Hello) and first call
//   idle     `channels` connections, then 1000 held streams ({count 1, hold}); server RSS and
//            threads from /proc/<server_pid>/status
// CPU: server utime+stime from /proc/<server_pid>/stat, client getrusage. Output: text, JSON or
// the harness's `RESULT phase=... key=value` line with grpc_client's keys.
#include "cli/options.hpp"

#include <string>
#include <vector>

namespace rpcnetd::app {

// Runs the configured phase; returns 0, or 1 when calls failed or tokens were wrong/missing.
int run_bench(const cli::bench_config& config);

// Maps grpc_client's command line (`<unary|stream|connect|idle> --port P --certdir DIR
// --server-pid PID --conc --payload --warmup --duration --streams --count --warmup-count --iters
// --warmup-iters --channels`, durations in seconds) onto a bench_config aimed at 127.0.0.1:P
// with DIR/server.crt as the CA and output=result. Throws usage_error on bad input.
cli::bench_config bench_config_from_grpc_flags(const std::vector<std::string>& args);

}  // namespace rpcnetd::app
