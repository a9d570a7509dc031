#!/usr/bin/env bash
# The local demo cluster: director, worker-a, worker-b and a client, on 127.0.0.1.
#
#   scripts/demo.sh [--duration DUR] [--no-tmux] [--tokens N] [-- extra client flags]
#
# In tmux as four panes when tmux is installed and a terminal is attached; otherwise all four run in
# the background with prefixed, colour-coded logs. Ctrl+C (or the end of --duration, e.g. 60s)
# stops everything, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=""; use_tmux=auto; tokens=0; client_extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    --duration) duration=$2; shift 2 ;;
    --no-tmux) use_tmux=no; shift ;;
    --tokens) tokens=$2; shift 2 ;;
    --) shift; client_extra=("$@"); break ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

bin=$(scripts/build.sh)
director=${DIRECTOR_ADDR:-127.0.0.1:61000}
export DIRECTOR_ADDR=$director
cmds=(
    "director|$bin director --addr $director"
    "worker-a|$bin worker --label worker-a --addr 127.0.0.1:62001 --join $director"
    "worker-b|$bin worker --label worker-b --addr 127.0.0.1:62002 --join $director"
    "client|$bin client --director $director --tokens $tokens ${client_extra[*]:-}"
)

to_seconds() { # 60s, 2m, 500ms -> whole seconds (at least 1)
    local d=$1
    case "$d" in
    *ms) echo $(( (${d%ms} + 999) / 1000 )) ;;
    *s) echo "${d%s}" ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *h) echo $(( ${d%h} * 3600 )) ;;
    *) echo "$d" ;;
    esac
}

if [ "$use_tmux" = auto ] && command -v tmux >/dev/null && [ -t 0 ] && [ -t 1 ]; then
    session="rpcnetd-demo-$$"
    tmux new-session -d -s "$session" -n demo "${cmds[0]#*|}; read -r"
    tmux split-window -t "$session" -h "sleep 1; ${cmds[1]#*|}; read -r"
    tmux split-window -t "$session" -v "sleep 1; ${cmds[2]#*|}; read -r"
    tmux select-pane -t "$session".0
    tmux split-window -t "$session" -v "sleep 3; ${cmds[3]#*|}; read -r"
    tmux select-layout -t "$session" tiled >/dev/null
    if [ -n "$duration" ]; then
        (sleep "$(to_seconds "$duration")"; tmux kill-session -t "$session" 2>/dev/null) &
    fi
    exec tmux attach -t "$session"
fi

colors=(35 32 36 33)
pids=()
cleanup() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && break
        sleep 0.2
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

start() { # index
    local name=${cmds[$1]%%|*} cmd=${cmds[$1]#*|} color=${colors[$1]}
    # exec replaces the subshell, so $! is rpcnetd's own PID; the prefixer reads a FIFO-free pipe.
    ( exec $cmd ) > >(while IFS= read -r line; do printf '\033[%sm%-9s|\033[0m %s\n' "$color" "$name" "$line"; done) 2>&1 &
    pids+=($!)
}

start 0; sleep 1; start 1; start 2; sleep 2; start 3
echo "demo: running (director $director); Ctrl+C stops it${duration:+, or after $duration}"
if [ -n "$duration" ]; then
    end=$(( SECONDS + $(to_seconds "$duration") ))
    while [ $SECONDS -lt $end ]; do sleep 1; done
else
    wait "${pids[3]}" || true
    echo "demo: client finished; Ctrl+C stops the cluster"
    wait
fi
