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
pids=()
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

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
python3 - "$dir/client.jsonl" "$tokens" "$rc" <<'PY'
import json, sys
path, n, rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seqs, failovers = [], 0
for line in open(path):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "token":
        seqs.append(e["sequence"])
    elif e.get("event") == "failover":
        failovers += 1
missing = sorted(set(range(1, n + 1)) - set(seqs))
repeated = len(seqs) - len(set(seqs))
in_order = seqs == sorted(seqs)
print(f"tokens received: {len(seqs)}  failovers: {failovers}  client exit: {rc}")
print(f"missing: {len(missing)}{' ' + str(missing[:10]) if missing else ''}  repeated: {repeated}  in order: {in_order}")
ok = rc == 0 and not missing and repeated == 0 and in_order
print("RESULT: " + ("every sequence exactly once, in order" if ok else "FAILED"))
sys.exit(0 if ok else 1)
PY
