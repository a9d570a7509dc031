#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, builds with warnings as errors,
# runs every test, builds and runs them again under AddressSanitizer + UBSan (all but the
# script and packaging tests, see normal_only), then runs every libFuzzer target for 45 s
# (scripts/fuzz.sh, clang, build-fuzz/).
#
#   scripts/test.sh            full suite (normal + ASan/UBSan + 45 s per fuzz target)
#   scripts/test.sh --quick    normal build only
#   scripts/test.sh --asan     ASan/UBSan build only
#   scripts/test.sh [--quick|--asan] --fuzz SECONDS
#                              fuzz each target SECONDS after the suites (0: no fuzzing)
# Build trees: build/ and build-asan/. Extra ctest arguments after "--", e.g. -- -R membership.
set -euo pipefail
cd "$(dirname "$0")/.."

configs=(normal asan)
fuzz_seconds=45
case "${1:-}" in
--quick) configs=(normal); fuzz_seconds=0; shift ;;
--asan) configs=(asan); fuzz_seconds=0; shift ;;
esac
if [ "${1:-}" = "--fuzz" ]; then
    fuzz_seconds=${2:?--fuzz needs SECONDS}
    shift 2
fi
[ "${1:-}" = "--" ] && shift

scripts/deps.sh

# Layout is decided by the committed .clang-format (clang-format 14, Debian 12): CI fails on a
# file that does not match it (fix with: clang-format -i FILE).
echo "=== format: clang-format --dry-run --Werror ==="
git ls-files '*.cpp' '*.hpp' | grep -v '^tests/fuzz/corpus/' | xargs clang-format --dry-run --Werror

jobs=$(nproc 2>/dev/null || echo 2)
serial='^gossip flood:'
# Run by the normal pass only: these check scripts and packaging around the binary (the tmux
# demo, cmake --install, cpack, the namespace partition script), not code paths of their own, so
# a sanitizer has nothing new to find in them, and they cost CI about 70 s of a 30-minute budget.
normal_only='^(ha_partition|demo: tmux |install: cmake --install|package: cpack)'
summary=$(mktemp)
trap 'rm -f "$summary" "$summary".*' EXIT
for cfg in "${configs[@]}"; do
    if [ "$cfg" = normal ]; then
        dir=build
        flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
    else
        dir=build-asan
        # Benchmarks are built (and warning-checked) by the normal pass; skipping them here
        # keeps the sanitizer pass inside CI's time budget.
        flags=(-DCMAKE_BUILD_TYPE=Debug -DRPCNETD_SANITIZE=address,undefined
               -DRPCNETD_BUILD_BENCHMARKS=OFF)
    fi
    echo "=== $cfg: configure + build ($dir) ==="
    cmake -S . -B "$dir" -G Ninja -DRPCNETD_WARNINGS_AS_ERRORS=ON "${flags[@]}" >/dev/null
    cmake --build "$dir" -j "$jobs"
    echo "=== $cfg: tests (built at ${SECONDS}s) ==="
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    exclude=$serial
    if [ "$cfg" = asan ]; then
        exclude="$serial|$normal_only"
        # Longest tests first: CTest orders by the durations it recorded, and the normal pass has
        # just recorded them for the same test names (a fresh tree would start them in file
        # order and finish on a tail of long tests with one core idle).
        if [ -f build/Testing/Temporary/CTestCostData.txt ]; then
            mkdir -p build-asan/Testing/Temporary
            cp build/Testing/Temporary/CTestCostData.txt build-asan/Testing/Temporary/
        fi
    fi
    if [ $# -gt 0 ]; then
        ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 "$@" | tee "$summary.$cfg"
    else
        # The gossip flood saturates both cores for 30 s (a sender at 12,000 datagrams/s and the
        # director reading them): run it alone, after the rest, so it cannot starve the timing
        # bounds of the cluster tests that would otherwise run beside it.
        ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 -E "$exclude" |
            tee "$summary.$cfg"
        ctest --test-dir "$dir" --output-on-failure --timeout 600 -R "$serial" |
            tee "$summary.$cfg.serial"
    fi
done
if [ "$fuzz_seconds" != 0 ]; then
    echo "=== fuzz (at ${SECONDS}s) ==="
    scripts/fuzz.sh --jobs "$jobs" "$fuzz_seconds"
fi
echo "=== done in ${SECONDS}s ==="
# One closing line over every pass (ctest prints "N% tests passed, F tests failed out of T").
awk '/tests passed, [0-9]+ tests failed out of/ { failed += $4; total += $NF }
     END { printf "tests: %d passed, %d failed\n", total - failed, failed }' "$summary".*
