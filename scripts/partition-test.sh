#!/usr/bin/env bash
# A real network partition (issue #10): five members, each in its own network namespace on a
# private bridge (10.77.0.0/24, in a hub namespace of its own: nothing is routed anywhere else),
# each with its own IP, its own certificate from scripts/gen-certs.sh for that IP and the cluster's
# gossip key. Side A = director-1 (10.77.0.1), worker-a (.2); side B = director-2 (.3),
# worker-b (.4), worker-c (.5). iptables in every member's namespace cuts A from B for
# PARTITION_SECONDS (default 20), then the rules go.
#
# Checks: during the partition each side's director assigns only its side's workers, and a stream
# on each side runs on without a failover; after the heal every member sees the 4 others alive
# within push-pull + reconnect interval (5 s + 2 s here, plus 3 s of slack for probe rounds on a
# loaded machine), and no member declares anyone failed after the heal.
#
#   scripts/partition-test.sh [RPCNETD_BINARY]       (default build/rpcnetd)
#
# Needs root, network namespaces and iptables (scripts/deps.sh installs it). When they are not
# available it prints "SKIP: <why>" and exits 77, which CTest reports as skipped (SKIP_RETURN_CODE).
# Namespaces are named ha<pid>…, and are deleted on exit, whatever happens.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-$src/build/rpcnetd}")
partition_s=${PARTITION_SECONDS:-20}
push_pull_s=5
reconnect_s=2
slack_s=3

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$bin" ] || fail "no rpcnetd binary at $bin"
[ "$(id -u)" -eq 0 ] || skip "the partition test needs root (network namespaces, iptables)"
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v iptables >/dev/null || skip "iptables is not installed (scripts/deps.sh installs it)"

tag="ha$$"
hub="${tag}hub"
ns() { echo "${tag}n$1"; }
ipof() { echo "10.77.0.$1"; }
work=$(mktemp -d)
pids=()
cleanup() {
    local p i
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    for i in 1 2 3 4 5; do ip netns del "$(ns "$i")" 2>/dev/null || true; done
    ip netns del "$hub" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$hub" 2>/dev/null || skip "cannot create network namespaces here"
ip -n "$hub" link add br0 type bridge || skip "cannot create a bridge in a namespace"
ip -n "$hub" link set br0 up
for i in 1 2 3 4 5; do
    ip netns add "$(ns "$i")"
    ip -n "$(ns "$i")" link set lo up
    ip -n "$(ns "$i")" link add eth0 type veth peer name "v$i" netns "$hub"
    ip -n "$hub" link set "v$i" master br0
    ip -n "$hub" link set "v$i" up
    ip -n "$(ns "$i")" addr add "$(ipof "$i")/24" dev eth0
    ip -n "$(ns "$i")" link set eth0 up
done
if ! iptables -L -n >/dev/null 2>&1 || ! ip netns exec "$(ns 1)" iptables -L -n >/dev/null 2>&1; then
    skip "iptables does not work in a network namespace here"
fi

# --- certificates: a cluster CA, one certificate per member for its IP, the gossip key --------
pki="$work/pki"
"$src/scripts/gen-certs.sh" --ca "$pki" >/dev/null
names=(_ director-1 worker-a director-2 worker-b worker-c)
roles=(_ director worker director worker worker)
for i in 1 2 3 4 5; do
    "$src/scripts/gen-certs.sh" --node "$pki" "${names[$i]}" "$(ipof "$i")" "${roles[$i]}" >/dev/null
done
tls() { echo --cert "$pki/$1.pem" --key "$pki/$1.key" --ca "$pki/ca.pem" --gossip-key "$pki/gossip.key"; }
client_tls="--ca $pki/ca.pem --gossip-key $pki/gossip.key"
swim="--push-pull-interval ${push_pull_s}s --reconnect-interval ${reconnect_s}s --reap-after 120s"
port=7946
d1="$(ipof 1):$port"
d2="$(ipof 3):$port"

start() { # start NS-INDEX LOGNAME ARGS...
    local i=$1 log=$2
    shift 2
    ip netns exec "$(ns "$i")" "$bin" "$@" >"$work/$log.log" 2>&1 &
    pids+=($!)
}
# shellcheck disable=SC2086
{
    start 1 director-1 director --addr "$d1" --name director-1 --status-interval 1s $swim $(tls director-1)
    start 3 director-2 director --addr "$d2" --name director-2 --join "$d1" --status-interval 1s $swim $(tls director-2)
    for i in 2 4 5; do
        start "$i" "${names[$i]}" worker --label "${names[$i]}" --addr "$(ipof "$i"):$port" \
            --join "$d1,$d2" --token-interval 50ms $swim $(tls "${names[$i]}")
    done
}

stat_of() { # stat_of NS-INDEX COUNTER: member i's counter, asked from inside its own namespace
    # shellcheck disable=SC2086
    ip netns exec "$(ns "$1")" "$bin" stats --target "$(ipof "$1"):$port" --output json $client_tls \
        2>/dev/null | grep -o "\"$2\":[0-9]*" | cut -d: -f2 || true
}
all_see_alive() { # every member sees the 4 others alive
    local i
    for i in 1 2 3 4 5; do [ "$(stat_of "$i" members.alive)" = 4 ] || return 1; done
}
wait_until() { # wait_until SECONDS CMD...: polls every 0.2 s
    local limit=$1 t0
    shift
    t0=$(date +%s%N)
    until "$@"; do
        (( ($(date +%s%N) - t0) / 1000000000 < limit )) || return 1
        sleep 0.2
    done
}
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

wait_until 30 all_see_alive || fail "the cluster did not converge before the partition"
echo "cluster up: 2 directors, 3 workers, each in its own namespace"

# Long streams, one per side, pinned to a worker of that side.
tokens=$(( (partition_s + 15) * 20 ))   # 50 ms per token: outlasts partition + heal
# shellcheck disable=SC2086
{
    ip netns exec "$(ns 1)" "$bin" client --director "$d1" --filter label=worker-a --tokens "$tokens" \
        --output jsonl $client_tls >"$work/stream-a.log" 2>&1 &
    stream_a=$!
    pids+=("$stream_a")
    ip netns exec "$(ns 4)" "$bin" client --director "$d2" --filter label=worker-b --tokens "$tokens" \
        --output jsonl $client_tls >"$work/stream-b.log" 2>&1 &
    stream_b=$!
    pids+=("$stream_b")
}
has_tokens() { grep -q '"event":"token"' "$work/stream-a.log" && grep -q '"event":"token"' "$work/stream-b.log"; }
wait_until 20 has_tokens || fail "the streams did not start"

# --- partition 2|3 --------------------------------------------------------------------------
side_a=(1 2)
side_b=(3 4 5)
cut_off() { # cut_off NS-INDEX OTHER-SIDE-INDEXES...
    local i=$1 j
    shift
    for j in "$@"; do
        ip netns exec "$(ns "$i")" iptables -A INPUT -s "$(ipof "$j")" -j DROP
        ip netns exec "$(ns "$i")" iptables -A OUTPUT -d "$(ipof "$j")" -j DROP
    done
}
for i in "${side_a[@]}"; do cut_off "$i" "${side_b[@]}"; done
for i in "${side_b[@]}"; do cut_off "$i" "${side_a[@]}"; done
partition_start=$(date +%s%N)
echo "partitioned {director-1, worker-a} | {director-2, worker-b, worker-c} for ${partition_s}s"

sees_other_side_failed() { [ "$(stat_of 1 members.failed)" = 3 ] && [ "$(stat_of 3 members.failed)" = 2 ]; }
wait_until $(( partition_s - 5 )) sees_other_side_failed ||
    fail "the sides did not declare each other failed during the partition"
echo "each side sees the other failed after $(ms_since "$partition_start") ms"

assigned_workers() { # assigned_workers NS-INDEX DIRECTOR: workers named in 3 short clients' assignments
    local i=$1 d=$2 n
    for n in 1 2 3; do
        # shellcheck disable=SC2086
        ip netns exec "$(ns "$i")" "$bin" client --director "$d" --tokens 3 --output jsonl \
            --wait-timeout 10s $client_tls 2>/dev/null | grep '"event":"assigned"' |
            grep -o '"worker":"[^"]*"' | cut -d'"' -f4
    done
}
got_a=$(assigned_workers 1 "$d1" | sort -u | tr '\n' ' ')
got_b=$(assigned_workers 3 "$d2" | sort -u | tr '\n' ' ')
echo "during the partition: director-1 assigned [ $got_a], director-2 assigned [ $got_b]"
[ "$got_a" = "worker-a " ] || fail "director-1 assigned outside its side: $got_a"
[[ -n $got_b && $got_b != *worker-a* ]] || fail "director-2 assigned outside its side: $got_b"

while (( $(ms_since "$partition_start") < partition_s * 1000 )); do sleep 0.2; done

# --- heal -------------------------------------------------------------------------------------
declare -A failures_at_heal
for i in 1 2 3 4 5; do failures_at_heal[$i]=$(stat_of "$i" gossip.failures_declared); done
for i in 1 2 3 4 5; do ip netns exec "$(ns "$i")" iptables -F; done
heal=$(date +%s%N)
limit=$(( push_pull_s + reconnect_s + slack_s ))
wait_until $(( limit + 20 )) all_see_alive || fail "not every member sees every other alive after the heal"
healed_ms=$(ms_since "$heal")
echo "healed: every member sees the 4 others alive ${healed_ms} ms after the heal (limit ${limit} s)"
(( healed_ms <= limit * 1000 )) || fail "convergence after the heal took ${healed_ms} ms (> ${limit} s)"

sleep 3
for i in 1 2 3 4 5; do
    now=$(stat_of "$i" gossip.failures_declared)
    [ "$now" = "${failures_at_heal[$i]}" ] ||
        fail "${names[$i]} declared a member failed after the heal (${failures_at_heal[$i]} -> $now)"
done
all_see_alive || fail "a member is no longer alive 3 s after the heal"
echo "no member declared failed after the heal"

# --- the streams ran through, one per side, without a failover -------------------------------
for s in a b; do
    pid=$([ $s = a ] && echo "$stream_a" || echo "$stream_b")
    rc=0
    wait "$pid" || rc=$?
    log="$work/stream-$s.log"
    [ "$rc" = 0 ] || { tail -5 "$log"; fail "stream $s exited $rc"; }
    grep -q '"event":"failover"' "$log" && { grep failover "$log" | head -3; fail "stream $s failed over"; }
    grep -q "\"event\":\"done\",\"total\":$tokens," "$log" || fail "stream $s did not deliver $tokens tokens"
    seqs=$(grep -c '"event":"token"' "$log")
    [ "$seqs" = "$tokens" ] || fail "stream $s printed $seqs tokens, expected $tokens"
done
echo "both streams delivered $tokens tokens through the partition without a failover"
echo "PASS"
