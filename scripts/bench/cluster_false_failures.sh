#!/usr/bin/env bash
# False failures of the SWIM detector at process level (issue #3). Prints counts, never fails on
# them. Two scenarios, each on a fresh 10-member cluster (director + 9 workers, default flags):
#
#   pause  a worker is SIGSTOPped for 400 ms every 2 s for 60 s (GC-pause / overloaded host);
#          counts NodeFailed/NodeSuspect lines about it printed by the other members, and the
#          director's health-check drops ("🩺 Worker X failed its health check").
#   loss   10 % of UDP datagrams are dropped at random for 60 s (iptables statistic match; this
#          kernel has no netem); counts NodeFailed/NodeSuspect lines about anyone.
#
# Both run inside a network namespace created here (rpcnetd-bench-PID) with only `lo` up, so
# fixed ports cannot collide with anything else on the machine; the namespace is deleted on exit.
# Without namespaces the pause scenario runs on the host loopback and the loss scenario is
# skipped (it would need rules on the host's loopback). Needs root for namespaces.
#
#   scripts/bench/cluster_false_failures.sh [--quick] [--binary PATH] [--seconds N]
#                                           [--only pause|loss] [--loss P] [--keep-logs]
#                                           [--members N] [--netns-prefix NAME]
#
# --members N: director + N-1 workers (default 10). --netns-prefix: the namespace is
# NAME-PID (default rpcnetd-bench). The loss line also reports NodeSuspect lines per member
# per minute.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/netns.sh
. "$ROOT/scripts/lib/netns.sh"
BIN=${RPCNETD_BIN:-$ROOT/build/rpcnetd}
SECONDS_PER_SCENARIO=60
ONLY=""
LOSS=0.1
KEEP_LOGS=0
WORKERS=9
NS_PREFIX=rpcnetd-bench
while (($#)); do
    case $1 in
        --quick) SECONDS_PER_SCENARIO=20 ;;
        --binary) BIN=$2; shift ;;
        --seconds) SECONDS_PER_SCENARIO=$2; shift ;;
        --only) ONLY=$2; shift ;;
        --loss) LOSS=$2; shift ;;
        --keep-logs) KEEP_LOGS=1 ;;
        --members) WORKERS=$(($2 - 1)); shift ;;
        --netns-prefix) NS_PREFIX=$2; shift ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
[[ -x $BIN ]] || { echo "rpcnetd binary not executable: $BIN (build it or pass --binary)" >&2; exit 2; }
CERTS=(--cert "$ROOT/certs/test_cert.pem" --key "$ROOT/certs/test_key.pem")

WORK=$(mktemp -d /tmp/rpcnetd-false-failures-XXXXXX)
NS=$NS_PREFIX-$$
HAVE_NS=0
RUN=()                 # prefix that runs a command inside the namespace (empty on the host)
declare -A MPID=()     # member name -> pid (ip netns exec execs in place: same pid)
BASE=7000

cleanup() {
    stop_cluster
    ((HAVE_NS)) && netns_down "$NS"
    if ((KEEP_LOGS)); then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_cluster() {
    local name
    for name in "${!MPID[@]}"; do
        kill -CONT "${MPID[$name]}" 2>/dev/null
        kill -KILL "${MPID[$name]}" 2>/dev/null
        wait "${MPID[$name]}" 2>/dev/null
    done
    MPID=()
}

setup_namespace() {
    if netns_up "$NS" 2>"$WORK/netns.err"; then
        HAVE_NS=1
        RUN=(ip netns exec "$NS")
        BASE=7000
    else
        echo "network namespaces unavailable ($(head -1 "$WORK/netns.err")): pause runs on the" \
             "host loopback, loss is skipped"
        BASE=$((20000 + RANDOM % 30000))
    fi
}

# start_cluster TAG: director on BASE, worker-i on BASE+i; logs in $WORK/TAG-NAME.log.
start_cluster() {
    local tag=$1 i
    "${RUN[@]}" "$BIN" director --addr "127.0.0.1:$BASE" "${CERTS[@]}" >"$WORK/$tag-director.log" 2>&1 &
    MPID[director]=$!
    sleep 0.3
    for ((i = 1; i <= WORKERS; i++)); do
        "${RUN[@]}" "$BIN" worker --label "worker-$i" --addr "127.0.0.1:$((BASE + i))" \
            --join "127.0.0.1:$BASE" "${CERTS[@]}" >"$WORK/$tag-worker-$i.log" 2>&1 &
        MPID[worker-$i]=$!
    done
    local deadline=$((SECONDS + 20 + WORKERS / 2)) alive=0
    while ((SECONDS < deadline)); do
        alive=$("${RUN[@]}" timeout 5 "$BIN" members --director "127.0.0.1:$BASE" --output json \
                "${CERTS[@]}" 2>/dev/null | grep -o '"state":"alive"' | wc -l)
        ((alive == WORKERS + 1)) && return 0
        sleep 0.2
    done
    echo "$tag: only $alive of $((WORKERS + 1)) members alive after 20s" >&2
    return 1
}

# count TAG PATTERN [EXCLUDED_MEMBER]: matching lines over the members' logs.
count() {
    local tag=$1 pattern=$2 exclude=${3:-} f n=0
    for f in "$WORK/$tag"-*.log; do
        [[ -n $exclude && $f == "$WORK/$tag-$exclude.log" ]] && continue
        n=$((n + $(grep -c -- "$pattern" "$f")))
    done
    echo "$n"
}

# observers TAG PATTERN EXCLUDED_MEMBER: how many members printed the pattern at least once.
observers() {
    local tag=$1 pattern=$2 exclude=$3 f n=0
    for f in "$WORK/$tag"-*.log; do
        [[ $f == "$WORK/$tag-$exclude.log" ]] && continue
        grep -q -- "$pattern" "$f" && n=$((n + 1))
    done
    echo "$n"
}

PAUSE_JSON=null
LOSS_JSON=null

run_pause() {
    local victim=worker-1 pid pauses=0 end
    start_cluster pause || { stop_cluster; return; }
    pid=${MPID[$victim]}
    end=$((SECONDS + SECONDS_PER_SCENARIO))
    while ((SECONDS < end)); do
        kill -STOP "$pid"
        sleep 0.4
        kill -CONT "$pid"
        pauses=$((pauses + 1))
        sleep 1.6
    done
    sleep 3 # events about the last pause
    local failed suspect obs health recovered other
    failed=$(count pause "NodeFailed node=$victim " "$victim")
    obs=$(observers pause "NodeFailed node=$victim " "$victim")
    suspect=$(count pause "NodeSuspect node=$victim " "$victim")
    recovered=$(count pause "NodeRecovered node=$victim " "$victim")
    health=$(grep -c "Worker $victim failed its health check" "$WORK/pause-director.log")
    other=$(($(count pause "NodeFailed node=") - failed))
    echo "pause: $pauses pauses of 400ms every 2s over ${SECONDS_PER_SCENARIO}s of $victim:" \
         "NodeFailed lines about it=$failed (from $obs of $WORKERS members)," \
         "NodeSuspect=$suspect NodeRecovered=$recovered director health-check drops=$health;" \
         "NodeFailed about others=$other"
    PAUSE_JSON="{\"seconds\":$SECONDS_PER_SCENARIO,\"pauses\":$pauses,\"pause_ms\":400,\"period_ms\":2000,\"node_failed\":$failed,\"observers\":$obs,\"node_suspect\":$suspect,\"node_recovered\":$recovered,\"health_check_drops\":$health,\"other_node_failed\":$other}"
    stop_cluster
}

run_loss() {
    if ((!HAVE_NS)); then
        echo "loss: skipped (no network namespace)"
        return
    fi
    if ! command -v iptables >/dev/null; then
        echo "loss: skipped (iptables missing: apt-get install iptables)"
        return
    fi
    start_cluster loss || { stop_cluster; return; }
    local before_failed before_suspect before_recovered before_health
    before_failed=$(count loss "NodeFailed node=")
    before_recovered=$(count loss "NodeRecovered node=")
    before_suspect=$(count loss "NodeSuspect node=")
    before_health=$(grep -c "failed its health check" "$WORK/loss-director.log")
    # Rule 1 only counts UDP datagrams; rule 2 drops a random LOSS share of them.
    "${RUN[@]}" iptables -A INPUT -p udp
    "${RUN[@]}" iptables -A INPUT -p udp -m statistic --mode random --probability "$LOSS" -j DROP
    sleep "$SECONDS_PER_SCENARIO"
    local counters udp dropped failed suspect recovered health
    counters=$("${RUN[@]}" iptables -L INPUT -v -n -x | awk 'NR > 2 { print $1 }')
    udp=$(sed -n 1p <<<"$counters")
    dropped=$(sed -n 2p <<<"$counters")
    "${RUN[@]}" iptables -F INPUT
    sleep 1
    failed=$(($(count loss "NodeFailed node=") - before_failed))
    suspect=$(($(count loss "NodeSuspect node=") - before_suspect))
    recovered=$(($(count loss "NodeRecovered node=") - before_recovered))
    health=$(($(grep -c "failed its health check" "$WORK/loss-director.log") - before_health))
    local per_member_minute
    per_member_minute=$(awk -v s="$suspect" -v n=$((WORKERS + 1)) -v t="$SECONDS_PER_SCENARIO" \
        'BEGIN { printf "%.2f", s / n * 60 / t }')
    echo "loss: ${LOSS} UDP loss for ${SECONDS_PER_SCENARIO}s ($dropped of $udp datagrams" \
         "dropped): NodeFailed lines=$failed NodeSuspect=$suspect" \
         "(${per_member_minute} per member per minute) NodeRecovered=$recovered" \
         "director health-check drops=$health"
    LOSS_JSON="{\"seconds\":$SECONDS_PER_SCENARIO,\"loss\":$LOSS,\"udp_datagrams\":${udp:-0},\"dropped\":${dropped:-0},\"node_failed\":$failed,\"node_suspect\":$suspect,\"node_suspect_per_member_minute\":$per_member_minute,\"node_recovered\":$recovered,\"health_check_drops\":$health}"
    stop_cluster
}

echo "cluster_false_failures: binary=$BIN members=$((WORKERS + 1)) seconds=$SECONDS_PER_SCENARIO"
setup_namespace
[[ -z $ONLY || $ONLY == pause ]] && run_pause
[[ -z $ONLY || $ONLY == loss ]] && run_loss
echo "{\"bench\":\"cluster_false_failures\",\"members\":$((WORKERS + 1)),\"namespace\":$HAVE_NS,\"pause\":$PAUSE_JSON,\"loss\":$LOSS_JSON}"
