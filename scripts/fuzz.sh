#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan, build tree build-fuzz/) and runs
# each for SECONDS on a scratch copy of its committed corpus (tests/fuzz/corpus/<target>/).
# Prints per target: executions, executions per second, coverage (cov: / ft: of libFuzzer's final
# line) and crash/leak/OOM; exits non-zero if any target found anything. Crash inputs are kept in
# build-fuzz/artifacts/ -- add one as tests/fuzz/corpus/<target>/regress-<what> once fixed, so the
# Catch2 replay ([fuzz]) guards it. tests/fuzz/dict/<target>.dict, when present, is passed as
# -dict (tokens the parsers branch on).
#
#   scripts/fuzz.sh SECONDS                  run every target
#   scripts/fuzz.sh --only swim_state 60     one target
#   scripts/fuzz.sh --jobs 2 60              two targets at a time (CI: one per core)
#   scripts/fuzz.sh --update-corpus 300      afterwards, minimise (-merge=1) the committed corpus
#                                            plus what the run found back into tests/fuzz/corpus/
#                                            (regress-* and seed-* files are always kept)
#   scripts/fuzz.sh --seeds --update-corpus 60
#                                            first rewrite the hand-made seed-* files
#                                            (tests/fuzz/seed_corpus_test.cpp; needs build/)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

targets=(frame_decoder gossip_envelope swim_codec swim_state proto_bodies)
update=0
seeds=0
jobs=1
while [ $# -gt 0 ]; do
    case "$1" in
    --update-corpus) update=1; shift ;;
    --seeds) seeds=1; shift ;;
    --only) targets=("$2"); shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) break ;;
    esac
done
seconds=${1:?usage: scripts/fuzz.sh [--only TARGET] [--update-corpus] [--seeds] SECONDS}

max_len() {
    case "$1" in
    frame_decoder) echo 4096 ;;
    gossip_envelope) echo 2048 ;;
    swim_codec) echo 2048 ;;
    swim_state) echo 4096 ;;
    proto_bodies) echo 4096 ;;
    esac
}

missing=()
for p in clang-14 libclang-rt-14-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "fuzz: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
        { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
fi

echo "=== fuzz: configure + build (build-fuzz) ==="
build_start=$(date +%s)
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER=clang++-14 -DRPCNETD_FUZZ=ON -DRPCNETD_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz --target fuzz_targets -j "$(nproc 2>/dev/null || echo 2)"
echo "build: $(( $(date +%s) - build_start ))s"

if [ "$seeds" = 1 ]; then
    [ -x build/rpcnetd_tests ] || { echo "--seeds needs build/rpcnetd_tests" >&2; exit 2; }
    RPCNETD_FUZZ_SEED_DIR="$root/tests/fuzz/corpus" build/rpcnetd_tests "[.fuzz_seeds]" >/dev/null
fi

# A small ASan quarantine: the default 256 MiB alone would push long runs near -rss_limit_mb=512.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
work=$(mktemp -d /tmp/rpcnetd-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
artifacts=$root/build-fuzz/artifacts
mkdir -p "$artifacts"

# Runs one target; writes its summary line to $work/<t>/summary and "fail" to $work/<t>/failed.
run_target() {
    local t=$1 bin=$root/build-fuzz/fuzz_$1 corpus=$work/$1/corpus log=$work/$1/log rc found
    mkdir -p "$corpus"
    cp "$root/tests/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
    echo "=== fuzz_$t: ${seconds}s, $(ls "$corpus" | wc -l) corpus files ==="
    local dict=()
    [ -e "$root/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$root/tests/fuzz/dict/$t.dict")
    set +e
    (cd "$work/$t" && "$bin" -max_total_time="$seconds" -malloc_limit_mb=64 -rss_limit_mb=512 \
        -max_len="$(max_len "$t")" -timeout=10 -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$artifacts/$t-" "$corpus" >"$log" 2>&1)
    rc=$?
    set -e
    local execs rate cov
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
    if [ "$rc" = 0 ]; then
        found=none
    else
        echo fail >"$work/$t/failed"
        if grep -q 'ERROR: LeakSanitizer' "$log"; then found=LEAK
        elif grep -q 'out-of-memory' "$log"; then found=OOM
        elif grep -q 'ERROR: libFuzzer: timeout' "$log"; then found=TIMEOUT
        elif grep -q 'runtime error:' "$log"; then found=UBSAN
        elif grep -q 'ERROR: AddressSanitizer' "$log"; then found=ASAN
        else found="CRASH (rc=$rc)"
        fi
        grep -E 'what\(\)|ERROR:|runtime error:|SUMMARY:|Test unit written' "$log" | head -20 |
            sed "s/^/fuzz_$t: /"
        tail -n 60 "$log" >"$artifacts/$t-last-log.txt"
    fi
    printf '%-16s execs=%-10s exec/s=%-8s %-20s crash/leak/oom=%s\n' \
        "$t" "${execs:-?}" "${rate:-?}" "${cov:-cov: ?}" "$found" | tee "$work/$t/summary"

    if [ "$update" = 1 ] && [ "$rc" = 0 ]; then
        local merged=$work/$t/merged dest=$root/tests/fuzz/corpus/$t
        mkdir -p "$merged"
        cp "$dest/"regress-* "$dest/"seed-* "$merged/" 2>/dev/null || true
        # Edge coverage only (no hit counters): one input per new edge keeps the corpus small.
        "$bin" -merge=1 -use_counters=0 -max_len="$(max_len "$t")" -malloc_limit_mb=64 \
            -rss_limit_mb=512 "$merged" "$dest" "$corpus" >"$work/$t/merge.log" 2>&1
        rm -rf "$dest"
        mkdir -p "$dest"
        cp "$merged/"* "$dest/"
        echo "corpus $t: $(ls "$dest" | wc -l) files, $(cat "$dest"/* | wc -c) bytes"
    fi
}

running=0
for t in "${targets[@]}"; do
    mkdir -p "$work/$t"
    if [ "$jobs" -le 1 ]; then
        run_target "$t"
        continue
    fi
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    run_target "$t" &
    running=$((running + 1))
done
wait || true

failed=0
echo "=== fuzz summary (${seconds}s per target, $jobs at a time) ==="
for t in "${targets[@]}"; do
    cat "$work/$t/summary" 2>/dev/null || echo "$t: no result"
    if [ -e "$work/$t/failed" ] || [ ! -e "$work/$t/summary" ]; then
        failed=1
    fi
done
exit "$failed"
