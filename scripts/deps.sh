#!/usr/bin/env bash
# Installs the Debian 12 packages rpcnetd needs to build, test and run its demo, only when missing
# (idempotent; apt-get update runs at most once). Needs root or sudo when something is missing.
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config libboost1.81-dev libboost-program-options1.81-dev
          libboost-json1.81-dev dpkg-dev
          libssl-dev openssl libfmt-dev libspdlog-dev libprotobuf-dev protobuf-compiler catch2
          clang-format iproute2 procps tmux curl jq python3 iptables
          prometheus)  # promtool: the /metrics tests run `promtool check metrics`
# --bench: also gRPC for the comparison harness (scripts/bench/grpc-compare.sh).
if [ "${1:-}" = --bench ]; then packages+=(libgrpc++-dev protobuf-compiler-grpc); fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
