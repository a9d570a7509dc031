#!/usr/bin/env bash
# Runs the gRPC comparison harness (the shared gRPC C++ anchor benchmark: run.sh, PROTOCOL.md) with
# rpcnetd as its extra column, through the adapters next to this script.
#
#   scripts/bench/grpc-compare.sh HARNESS_DIR
#   RPCNETD_GRPC_HARNESS=HARNESS_DIR scripts/bench/grpc-compare.sh
#
# Defaults: REPS=5 (the protocol's repetitions), the server adapter runs `rpcnetd worker`
# (RPCNETD_BENCH_BARE_SERVER=1 measures the bare RPC server instead), binaries from
# $RPCNETD_BENCH_BUILD (default <repo>/build-release, else <repo>/build). Other harness variables
# (QUICK, MODES, DUR, ...) pass through. Needs gRPC from Debian: libgrpc++-dev,
# protobuf-compiler-grpc (scripts/deps.sh --bench).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
harness=${1:-${RPCNETD_GRPC_HARNESS:-}}
if [[ -z $harness || ! -x $harness/run.sh ]]; then
  echo "grpc-compare.sh: give the harness directory (with run.sh) as argument or RPCNETD_GRPC_HARNESS" >&2
  exit 2
fi
export REPS=${REPS:-5}
export EXTRA_LABEL=${EXTRA_LABEL:-rpcnetd}
export EXTRA_SERVER="$here/rpcnetd-bench-server"
export EXTRA_CLIENT="$here/rpcnetd-bench-client"
cd "$harness"
exec ./run.sh
