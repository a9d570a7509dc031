#!/usr/bin/env bash
# Benchmark of `worker --exec` (issue #8). Prints numbers; fails on none.
#  1. tokens/s end to end: a program printing LINES short lines (seq) through --exec into
#     `client --output raw > /dev/null`, beside the built-in generator (--token-interval 0,
#     --tokens LINES) in the same run, on the same cluster.
#  2. worker memory under backpressure: --exec yes with a client that reads slowly; the worker's
#     RSS growth over SECONDS.
#
#   scripts/bench/exec-throughput.sh [--lines N] [--seconds S] [--port-base P] [--binary PATH]
# Ports P (director), P+1, P+2 (workers); default 61200. Last line: one JSON summary.
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=1000000; seconds=10; base=61200; bin=${RPCNETD_BIN:-build/rpcnetd}
while [ $# -gt 0 ]; do
    case "$1" in
    --lines) lines=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --port-base) base=$2; shift 2 ;;
    --binary) bin=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "exec-throughput: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || { echo "exec-throughput: no binary at $bin (build it first)" >&2; exit 2; }
dir=$(mktemp -d)
tls=(--cert certs/test_cert.pem --key certs/test_key.pem --log-level warn)
director=127.0.0.1:$base
. scripts/lib/stop-pids.sh
on_stop() { rm -rf "$dir"; }
trap stop_children INT TERM EXIT

"$bin" director --addr "$director" "${tls[@]}" >"$dir/director.log" 2>&1 & pids+=($!)
sleep 0.5
"$bin" worker --label builtin --addr "127.0.0.1:$((base + 1))" --join "$director" "${tls[@]}" \
    --token-interval 0ms >"$dir/builtin.log" 2>&1 & pids+=($!)
"$bin" worker --label exec --addr "127.0.0.1:$((base + 2))" --join "$director" "${tls[@]}" \
    --exec "seq $lines" >"$dir/exec.log" 2>&1 & pids+=($!)
sleep 2

run() { # label, extra client flags...
    local label=$1; shift
    local start end
    start=$(date +%s.%N)
    "$bin" client --director "$director" "${tls[@]}" --filter "label=$label" --output raw \
        --stream-idle-timeout 5s "$@" >"$dir/$label.out" 2>"$dir/$label.err"
    end=$(date +%s.%N)
    local n
    n=$(wc -l <"$dir/$label.out")
    awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN { printf "%d %.3f %.0f\n", n, e - s, n / (e - s) }'
}
read -r b_n b_s b_rate < <(run builtin --tokens "$lines")
read -r e_n e_s e_rate < <(run exec)
echo "built-in generator: $b_n tokens in ${b_s}s = $b_rate tokens/s"
echo "--exec 'seq $lines': $e_n tokens in ${e_s}s = $e_rate tokens/s ($(awk -v a="$e_rate" -v b="$b_rate" 'BEGIN { printf "%.0f", 100 * a / b }')% of built-in)"

# Backpressure: `yes` through a client reading about 20,000 lines/s.
kill -TERM "${pids[2]}"; wait "${pids[2]}" 2>/dev/null || true
"$bin" worker --label yes --addr "127.0.0.1:$((base + 2))" --join "$director" "${tls[@]}" \
    --exec yes >"$dir/yes.log" 2>&1 & wpid=$!; pids+=($wpid)
sleep 2
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
rss0=$(rss "$wpid")
"$bin" client --director "$director" "${tls[@]}" --filter label=yes --output raw \
    --stream-idle-timeout 30s 2>/dev/null > >(awk '{ if (NR % 2000 == 0) system("sleep 0.1") }') &
slow=$!; pids+=($slow)
peak=$rss0
for _ in $(seq 1 "$seconds"); do
    sleep 1
    r=$(rss "$wpid"); [ "$r" -gt "$peak" ] && peak=$r
done
growth=$((peak - rss0))
echo "worker RSS under 'yes' with a slow client: start ${rss0} KiB, peak ${peak} KiB, growth ${growth} KiB over ${seconds}s"
printf '{"bench":"exec-throughput","lines":%s,"builtin_tokens_per_s":%s,"exec_tokens_per_s":%s,"exec_rss_growth_kib":%s}\n' \
    "$lines" "$b_rate" "$e_rate" "$growth"
