#!/usr/bin/env bash
# The local demo cluster: director, worker-a, worker-b and a client, on 127.0.0.1.
#
#   scripts/demo.sh [--duration DUR] [--no-tmux] [--tokens N] [--port-base P] [-- extra client flags]
#
# In tmux as four panes when tmux is installed and a terminal is attached; otherwise all four run in
# the background with prefixed, colour-coded logs. Ctrl+C (in any pane), the end of --duration
# (e.g. 60s), closing the terminal or killing the tmux session stops everything, by PID.
# Ports: director P, workers P+1 and P+2 with --port-base P (or DEMO_PORT_BASE); default director
# 61000 (DIRECTOR_ADDR), workers 62001 and 62002. RPCNETD_BIN runs that binary instead of building.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/stop-pids.sh

duration=""; use_tmux=auto; tokens=0; client_extra=(); port_base=${DEMO_PORT_BASE:-}
while [ $# -gt 0 ]; do
    case "$1" in
    --duration) duration=$2; shift 2 ;;
    --no-tmux) use_tmux=no; shift ;;
    --tokens) tokens=$2; shift 2 ;;
    --port-base) port_base=$2; shift 2 ;;
    --) shift; client_extra=("$@"); break ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

if [ -n "$port_base" ]; then
    case "$port_base" in
    *[!0-9]*) echo "demo: --port-base needs a number from 1024 to 65533, got '$port_base'" >&2; exit 2 ;;
    esac
    if [ "$port_base" -lt 1024 ] || [ "$port_base" -gt 65533 ]; then
        echo "demo: --port-base needs a number from 1024 to 65533, got '$port_base'" >&2; exit 2
    fi
    director=127.0.0.1:$port_base
    worker_a=127.0.0.1:$((port_base + 1))
    worker_b=127.0.0.1:$((port_base + 2))
else
    director=${DIRECTOR_ADDR:-127.0.0.1:61000}
    worker_a=127.0.0.1:62001
    worker_b=127.0.0.1:62002
fi

if [ -n "${RPCNETD_BIN:-}" ]; then
    bin=$RPCNETD_BIN
else
    bin=$(scripts/build.sh)
fi
export DIRECTOR_ADDR=$director
names=(director worker-a worker-b client)
cmds=(
    "$bin director --addr $director"
    "$bin worker --label worker-a --addr $worker_a --join $director"
    "$bin worker --label worker-b --addr $worker_b --join $director"
    "$bin client --director $director --tokens $tokens ${client_extra[*]:-}"
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

# Ends the processes whose PIDs are recorded in run dir $1 (*.pid): SIGTERM (they leave the
# cluster and drain), SIGKILL after 2 s. Only a PID that still runs $bin is signalled, so a PID
# reused by an unrelated process after ours exited is left alone.
stop_recorded() {
    local dir=$1 pids=() pid f
    for f in "$dir"/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null) || continue
        case "$pid" in ''|*[!0-9]*) continue ;; esac
        [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$bin")" ] && pids+=("$pid")
    done
    stop_pids 2 "${pids[@]}"
}

# Runs detached from the terminal (setsid) for as long as the tmux session lives: it ends the
# session when --duration is over or when no terminal is attached any more (closed or detached),
# then ends every recorded process by PID. tmux ends panes with SIGHUP, which rpcnetd takes as
# "reload certificates", so the daemons would otherwise outlive the session.
watch_session() {
    local attached=0 started=$SECONDS deadline=""
    [ -n "$duration" ] && deadline=$(( SECONDS + $(to_seconds "$duration") ))
    # Started before the session exists, so no moment of the demo is left unwatched.
    until "${tm[@]}" has-session -t "$session" 2>/dev/null || [ $((SECONDS - started)) -ge 10 ]; do
        sleep 0.1
    done
    while "${tm[@]}" has-session -t "$session" 2>/dev/null; do
        if [ -n "$("${tm[@]}" list-clients -t "$session" 2>/dev/null)" ]; then
            attached=1
        elif [ $attached -eq 1 ] || [ $((SECONDS - started)) -ge 15 ]; then
            break  # the terminal went away (or never came)
        fi
        if [ -n "$deadline" ] && [ $SECONDS -ge "$deadline" ]; then
            break
        fi
        sleep 0.3
    done
    "${tm[@]}" kill-session -t "$session" 2>/dev/null || true
    stop_recorded "$run"
    [ "$own_run" = yes ] && rm -rf "$run"
    return 0
}

if [ "$use_tmux" = auto ] && command -v tmux >/dev/null && [ -t 0 ] && [ -t 1 ]; then
    session="rpcnetd-demo"
    # A tmux server of our own (-L): the user's sessions are never touched, and it exits with us.
    tm=(tmux -L "rpcnetd-demo-$$")
    # Run dir: one PID file per pane. DEMO_RUN_DIR (tests) is kept; our own is removed at the end.
    if [ -n "${DEMO_RUN_DIR:-}" ]; then
        run=$DEMO_RUN_DIR; own_run=no; mkdir -p "$run"
    else
        run=$(mktemp -d "${TMPDIR:-/tmp}/rpcnetd-demo.XXXXXX"); own_run=yes
    fi
    printf '%s\n' "rpcnetd-demo-$$" >"$run/tmux-socket"
    pane() { # index delay: the pane's command line (run by tmux through sh -c)
        local pidfile
        printf -v pidfile '%q' "$run/${names[$1]}.pid"
        # The pane shell records rpcnetd's PID (exec keeps it) and waits for it; Ctrl+C in the
        # pane ends the whole demo (the trap), a normal exit leaves the output on screen.
        echo "trap '${tm[*]} kill-session -t $session' INT; sleep $2;" \
             "sh -c 'echo \$\$ > $pidfile; exec \"\$@\"' sh ${cmds[$1]}; read -r _"
    }
    saved_tty=$(stty -g 2>/dev/null || true)
    setsid -w bash -c "$(declare -p bin duration session run own_run tm); $(declare -f to_seconds stop_pids stop_recorded watch_session); watch_session" \
        </dev/null >/dev/null 2>&1 &
    watcher=$!
    # Interrupted or hung up while setting up or attached: end the session, the watcher cleans up.
    trap '"${tm[@]}" kill-session -t "$session" 2>/dev/null; exit 1' INT TERM HUP
    "${tm[@]}" -f /dev/null new-session -d -s "$session" -n demo -x 200 -y 50 "$(pane 0 0)"
    "${tm[@]}" split-window -t "$session" -h "$(pane 1 1)"
    "${tm[@]}" split-window -t "$session" -v "$(pane 2 1)"
    "${tm[@]}" select-pane -t "$session".0
    "${tm[@]}" split-window -t "$session" -v "$(pane 3 3)"
    "${tm[@]}" select-layout -t "$session" tiled >/dev/null
    env -u TMUX "${tm[@]}" attach -t "$session" || true
    # Back from tmux (session over, or detached: the watcher then ends it). Wait for the
    # watcher's cleanup so the prompt returns to a terminal nothing writes into any more.
    wait "$watcher" 2>/dev/null || true
    [ -n "$saved_tty" ] && stty "$saved_tty" 2>/dev/null || true
    echo "demo: stopped; every process it started has ended"
    exit 0
fi

colors=(35 32 36 33)
pids=()
cleanup() {
    trap - INT TERM EXIT HUP
    stop_pids 10 "${pids[@]}"
    wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT HUP

start() { # index
    local name=${names[$1]} cmd=${cmds[$1]} color=${colors[$1]}
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
