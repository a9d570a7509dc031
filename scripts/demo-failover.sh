#!/usr/bin/env bash
# Failover demo: worker-a simulates failures on a cycle, worker-b is killed (-9) midway and
# restarted; the client streams throughout. At the end it prints how many tokens the client
# received, how many failovers it made, and whether any sequence number was missing or repeated.
#
#   scripts/demo-failover.sh [--tokens N] [--token-interval DUR]
# Exit 0 when every sequence 1..N arrived exactly once, in order; 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

tokens=300; interval=100ms
while [ $# -gt 0 ]; do
    case "$1" in
    --tokens) tokens=$2; shift 2 ;;
    --token-interval) interval=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo-failover: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

bin=$(scripts/build.sh)
dir=$(mktemp -d)
director=127.0.0.1:61000
. scripts/lib/children.sh
trap stop_children INT TERM EXIT

"$bin" director --addr $director >"$dir/director.log" 2>&1 & pids+=($!)
sleep 0.5
"$bin" worker --label worker-a --addr 127.0.0.1:62001 --join $director --token-interval "$interval" \
    --simulate-failures --failure-healthy 8s --failure-warning 2s --failure-failed 4s \
    >"$dir/worker-a.log" 2>&1 & pids+=($!)
"$bin" worker --label worker-b --addr 127.0.0.1:62002 --join $director --token-interval "$interval" \
    >"$dir/worker-b.log" 2>&1 & wb=$!; pids+=($wb)
sleep 1
"$bin" client --director $director --tokens "$tokens" --output jsonl >"$dir/client.jsonl" 2>"$dir/client.log" &
client=$!; pids+=($client)
echo "demo-failover: client streaming $tokens tokens; logs in $dir"

sleep 8
echo "demo-failover: kill -9 worker-b (pid $wb)"
kill -KILL "$wb" 2>/dev/null || true
sleep 3
echo "demo-failover: restarting worker-b"
"$bin" worker --label worker-b --addr 127.0.0.1:62002 --join $director --token-interval "$interval" \
    >>"$dir/worker-b.log" 2>&1 & pids+=($!)

rc=0; wait "$client" || rc=$?
awk -v n="$tokens" -v rc="$rc" '
/"event":"token"/ {
    match($0, /"sequence":[0-9]+/); seq = substr($0, RSTART + 11, RLENGTH - 11) + 0
    count++; seen[seq]++; if (seq < last) disorder = 1; last = seq
}
/"event":"failover"/ { failovers++ }
END {
    missing = 0; repeated = 0
    for (i = 1; i <= n; i++) { if (!(i in seen)) missing++; else if (seen[i] > 1) repeated += seen[i] - 1 }
    printf "tokens received: %d  failovers: %d  client exit: %d\n", count, failovers, rc
    printf "missing: %d  repeated: %d  in order: %s\n", missing, repeated, disorder ? "no" : "yes"
    ok = (rc == 0 && missing == 0 && repeated == 0 && !disorder && count == n)
    print "RESULT: " (ok ? "every sequence exactly once, in order" : "FAILED")
    exit ok ? 0 : 1
}' "$dir/client.jsonl"
