#!/usr/bin/env bash
# Builds the rpcnetd binary into build/ (installs missing packages first). Prints the binary path.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh >&2
if [ ! -f build/build.ninja ]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
fi
cmake --build build --target rpcnetd -j "$(nproc 2>/dev/null || echo 2)" >&2
echo "$PWD/build/rpcnetd"
