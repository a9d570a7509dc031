#!/usr/bin/env bash
# Demo of `worker --exec`: a director and three workers running examples/markov/markov.sh (a
# deterministic Markov-chain text generator, --resume replay); the client streams a job with
# --output raw; the serving worker is killed (-9) mid-stream; at the end the client's output is
# compared byte for byte with one uninterrupted local run of the program.
#
#   scripts/demo-exec.sh [--port-base P] [--lines N]
# Ports: director P, workers P+1..P+3 (default 61100). Exit 0 when the outputs are identical.
set -euo pipefail
cd "$(dirname "$0")/.."

base=61100; lines=150
while [ $# -gt 0 ]; do
    case "$1" in
    --port-base) base=$2; shift 2 ;;
    --lines) lines=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo-exec: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

bin=$(scripts/build.sh)
dir=$(mktemp -d)
director=127.0.0.1:$base
program="$PWD/examples/markov/markov.sh $lines 8 0.03"
job=demo-exec-$$
. scripts/lib/stop-pids.sh
trap stop_children INT TERM EXIT

"$bin" director --addr "$director" >"$dir/director.log" 2>&1 & pids+=($!)
sleep 0.5
declare -A worker_pid
for i in 1 2 3; do
    "$bin" worker --label "worker-$i" --addr "127.0.0.1:$((base + i))" --join "$director" \
        --exec "$program" >"$dir/worker-$i.log" 2>&1 &
    worker_pid[worker-$i]=$!; pids+=($!)
done
sleep 2
echo "demo-exec: job $job, program: $program; logs in $dir"
echo "The Alice of Wonderland" | "$bin" client --director "$director" --job "$job" \
    --prompt-file - --output raw >"$dir/remote.txt" 2>"$dir/client.log" &
client=$!; pids+=($client)

while [ "$(wc -l <"$dir/remote.txt")" -lt $((lines / 3)) ]; do sleep 0.1; done
serving=$(grep -o 'assigned worker [^ ]*' "$dir/client.log" | tail -n 1 | cut -d' ' -f3)
echo "demo-exec: kill -9 $serving (pid ${worker_pid[$serving]}) after $(wc -l <"$dir/remote.txt") lines"
kill -KILL "${worker_pid[$serving]}"

rc=0; wait "$client" || rc=$?
seed=$(printf '%u' "0x$(printf %s "$job" | sha256sum | cut -c1-16)")
echo "The Alice of Wonderland" | env -i PATH="$PATH" RPCNETD_JOB="$job" RPCNETD_SEED="$seed" \
    RPCNETD_RESUME_FROM=1 $program >"$dir/local.txt"
cat "$dir/client.log" >&2
if [ "$rc" -eq 0 ] && cmp -s "$dir/local.txt" "$dir/remote.txt"; then
    echo "demo-exec: OK: $(wc -l <"$dir/remote.txt") lines, byte-identical to the local run"
    head -n 5 "$dir/remote.txt"
    exit 0
fi
echo "demo-exec: FAILED (client exit $rc); diff local remote:" >&2
diff "$dir/local.txt" "$dir/remote.txt" | head -n 20 >&2 || true
exit 1
