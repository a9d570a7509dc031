#!/usr/bin/env bash
# 100 members at process level (issue #10): 1 director + 99 workers, default SWIM flags, all inside
# a network namespace created here (ha-scale-<pid>, only `lo`, deleted on exit), so fixed ports
# 7000.. cannot collide with anything. Prints numbers and one JSON line; never fails on them.
#
#   join      all workers started back to back; time from the last start until every member has
#             printed NodeJoined for all the others (each line is stamped when it arrives)
#   idle      CPU % of one core per member over a window (/proc/<pid>/stat), and gossip bytes/s
#             sent per member (Node.Stats gossip.bytes_sent) for the director and 5 workers
#   kill      kill -9 of one random worker; time from the kill until each survivor printed
#             NodeFailed for it: median, p90, max, how many of the 99 did within 20 s
#   loss      10 % of UDP datagrams dropped at random (iptables statistic) for --loss-seconds;
#             NodeFailed lines about anyone still running = false failures
#
#   scripts/bench/cluster_scale.sh [--binary PATH] [--members N] [--idle-seconds S] [--loss-seconds S]
# Needs root (namespace, iptables) and bash >= 5 ($EPOCHREALTIME). State the machine's load with
# the numbers: it shares the CPU with all 100 members.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/netns.sh
. "$ROOT/scripts/lib/netns.sh"
BIN=${RPCNETD_BIN:-$ROOT/build/rpcnetd}
MEMBERS=100
IDLE_S=10
LOSS_S=60
while (($#)); do
    case $1 in
        --binary) BIN=$2; shift ;;
        --members) MEMBERS=$2; shift ;;
        --idle-seconds) IDLE_S=$2; shift ;;
        --loss-seconds) LOSS_S=$2; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
[[ -x $BIN ]] || { echo "rpcnetd binary not executable: $BIN" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "needs root (network namespace, iptables)" >&2; exit 2; }
BIN=$(realpath "$BIN")
NS="ha-scale-$$"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    netns_down "$NS"
    rm -rf "$WORK"
}
trap cleanup EXIT
netns_up "$NS" || exit 2
CERTS=(--cert "$ROOT/certs/test_cert.pem" --key "$ROOT/certs/test_key.pem" --log-level warn)
now_ms() { local t=$EPOCHREALTIME; echo $(( ${t/./} / 1000 )); }
stamp() { local l; while IFS= read -r l; do printf '%s %s\n' "${EPOCHREALTIME/./}" "$l"; done; }
start_member() { # start_member INDEX ARGS...: stdout stamped per line into $WORK/INDEX.log
    local i=$1; shift
    ip netns exec "$NS" "$BIN" "$@" "${CERTS[@]}" > >(stamp >"$WORK/$i.log") 2>&1 &
    PIDS[$i]=$!
}
inns() { netns_exec "$NS" "$@"; }

start_member 0 director --addr 127.0.0.1:7000 --status-interval 1h
sleep 0.5
first=$(now_ms)
for ((i = 1; i < MEMBERS; i++)); do
    start_member "$i" worker --label "worker-$i" --addr "127.0.0.1:$((7000 + i))" --join 127.0.0.1:7000
done
last=$(now_ms)
others=$((MEMBERS - 1))
deadline=$(( $(now_ms) + 60000 ))
while :; do
    done_n=0
    for ((i = 0; i < MEMBERS; i++)); do
        [[ $(grep -ac NodeJoined "$WORK/$i.log" 2>/dev/null) -ge $others ]] && ((done_n++))
    done
    ((done_n == MEMBERS)) && break
    (( $(now_ms) > deadline )) && break
    sleep 0.5
done
join_last_ms=0; unconverged=0
for ((i = 0; i < MEMBERS; i++)); do
    at=$(grep -a "NodeJoined" "$WORK/$i.log" | sed -n "${others}p" | cut -d' ' -f1)
    if [[ -z $at ]]; then ((unconverged++)); continue; fi
    ms=$(( at / 1000 - last ))
    ((ms > join_last_ms)) && join_last_ms=$ms
done
echo "join: ${MEMBERS} members, every member saw all others joined ${join_last_ms} ms after the last start ($(( last - first )) ms to start them); unconverged=$unconverged"

# --- idle -------------------------------------------------------------------------------------
sleep 3
ticks=$(getconf CLK_TCK)
cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
bytes_of() { inns "$BIN" stats --target "127.0.0.1:$1" --output json "${CERTS[@]}" 2>/dev/null | grep -o '"gossip.bytes_sent":[0-9]*' | cut -d: -f2; }
declare -A c0 b0
for ((i = 0; i < MEMBERS; i++)); do c0[$i]=$(cpu_of "${PIDS[$i]}"); done
for i in 0 1 2 3 4 5; do b0[$i]=$(bytes_of $((7000 + i))); done
t0=$(now_ms)
sleep "$IDLE_S"
t1=$(now_ms)
for i in 0 1 2 3 4 5; do b1=$(bytes_of $((7000 + i))); bps[$i]=$(( (b1 - b0[$i]) * 1000 / (t1 - t0) )); done
win_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1000 }')
cpus=()
for ((i = 0; i < MEMBERS; i++)); do
    c1=$(cpu_of "${PIDS[$i]}")
    cpus[$i]=$(awk -v d=$((c1 - c0[$i])) -v t="$ticks" -v w="$win_s" 'BEGIN { printf "%.2f", 100 * d / t / w }')
done
dir_cpu=${cpus[0]}
wk_sorted=$(printf '%s\n' "${cpus[@]:1}" | sort -n)
wk_med=$(echo "$wk_sorted" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
wk_max=$(echo "$wk_sorted" | tail -1)
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "idle over ${win_s}s: director CPU ${dir_cpu}% of a core, workers median ${wk_med}% max ${wk_max}%; gossip bytes/s sent: director ${bps[0]}, workers ${bps[1]} ${bps[2]} ${bps[3]} ${bps[4]} ${bps[5]}; loadavg $load"

# --- kill -9 ----------------------------------------------------------------------------------
victim=$(( (RANDOM % (MEMBERS - 1)) + 1 ))
kill -9 "${PIDS[$victim]}"; wait "${PIDS[$victim]}" 2>/dev/null
tk=$(now_ms)
sleep 20
delays=()
for ((i = 0; i < MEMBERS; i++)); do
    ((i == victim)) && continue
    at=$(grep -a "NodeFailed node=worker-$victim " "$WORK/$i.log" | head -1 | cut -d' ' -f1)
    [[ -n $at ]] && delays+=($(( at / 1000 - tk )))
done
sorted=$(printf '%s\n' "${delays[@]}" | sort -n)
n=${#delays[@]}
med=$(echo "$sorted" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
p90=$(echo "$sorted" | awk '{ a[NR] = $1 } END { i = int(NR * 0.9 + 0.999); if (i < 1) i = 1; print a[i] }')
max=$(echo "$sorted" | tail -1)
echo "kill -9 worker-$victim: $n of $((MEMBERS - 1)) survivors printed NodeFailed; median ${med} ms, p90 ${p90} ms, max ${max} ms"

# --- 10 % loss --------------------------------------------------------------------------------
before=0
for ((i = 0; i < MEMBERS; i++)); do
    ((i == victim)) && continue
    c=$(grep -a "NodeFailed" "$WORK/$i.log" | grep -vc "node=worker-$victim ")
    before=$((before + c))
done
inns iptables -A INPUT -p udp -m statistic --mode random --probability 0.1 -j DROP
sleep "$LOSS_S"
inns iptables -F
after=0
for ((i = 0; i < MEMBERS; i++)); do
    ((i == victim)) && continue
    c=$(grep -a "NodeFailed" "$WORK/$i.log" | grep -vc "node=worker-$victim ")
    after=$((after + c))
done
false_failures=$((after - before))
echo "10% UDP loss for ${LOSS_S}s: $false_failures NodeFailed lines about live members"
echo "{\"bench\":\"cluster_scale\",\"members\":$MEMBERS,\"join_ms_after_last_start\":$join_last_ms,\"unconverged\":$unconverged,\"director_idle_cpu_pct\":$dir_cpu,\"worker_idle_cpu_pct_median\":$wk_med,\"director_gossip_bytes_per_s\":${bps[0]},\"worker_gossip_bytes_per_s\":${bps[1]},\"detect_median_ms\":$med,\"detect_p90_ms\":$p90,\"detect_max_ms\":$max,\"detected_by\":$n,\"false_failures_10pct_loss\":$false_failures,\"loss_seconds\":$LOSS_S,\"loadavg\":\"$load\"}"
