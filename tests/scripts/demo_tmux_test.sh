#!/usr/bin/env bash
# The tmux demo leaves no process behind (issue #14). Runs scripts/demo.sh in tmux with a terminal
# (script(1) gives it one) on free ports, ends it one way, and checks that none of the rpcnetd
# processes it recorded is still running 5 s later. The PIDs come from the demo's run dir
# (DEMO_RUN_DIR); every kill here is by PID, never by name.
#
#   tests/scripts/demo_tmux_test.sh RPCNETD_BINARY duration|hangup|ctrl-c
#     duration  --duration 6s ends it (the demo's own timer kills the session)
#     hangup    the terminal goes away (script(1) killed: its pty hangs up)
#     ctrl-c    Ctrl+C in the worker-a pane ends the whole demo
# Exit 0 pass, 1 fail, 77 skipped (tmux or script missing: said on stdout; CTest shows "Skipped").
set -euo pipefail

for tool in tmux script ss; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIPPED: '$tool' is not installed, so the tmux demo path was NOT tested (scripts/deps.sh installs it)"
        exit 77
    fi
done
bin=$(readlink -f "$1"); scenario=$2
src=$(cd "$(dirname "$0")/../.." && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/demo-tmux-test.XXXXXX")
run=$work/run
script_pid=""
recorded=()
ours() { [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$bin" ]; }
cleanup() {
    local pid f
    if [ -n "$script_pid" ]; then
        { kill -KILL "$script_pid"; wait "$script_pid"; } 2>/dev/null
    fi
    set +e  # clean up everything, whatever fails on the way
    sleep 0.5  # a demo killed while setting up may still be creating its session
    [ -f "$run/tmux-socket" ] && tmux -L "$(cat "$run/tmux-socket")" kill-server 2>/dev/null
    for f in "$run"/*.pid; do [ -f "$f" ] && recorded+=("$(cat "$f")"); done
    for pid in "${recorded[@]}"; do ours "$pid" && kill -KILL "$pid" 2>/dev/null; done
    exec 3>&- 2>/dev/null || true
    rm -rf "$work"
    return 0
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- demo terminal output:"; tr -d '\033' <"$work/term.log" | tail -c 3000 || true; exit 1; }

# Three consecutive ports free on TCP and UDP, below the ephemeral range.
base=""
for _ in $(seq 1 50); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    used=$(ss -Htuan 2>/dev/null | awk '{print $5}')
    if ! grep -Eq ":($p|$((p + 1))|$((p + 2)))\$" <<<"$used"; then base=$p; break; fi
done
[ -n "$base" ] || fail "no free port base found"
echo "demo_tmux_test: scenario=$scenario port base=$base"

duration_flag=""
[ "$scenario" = duration ] && duration_flag="--duration 6s"
# script(1) forwards its stdin to the terminal: a FIFO we hold open keeps it from seeing EOF.
mkfifo "$work/in"
exec 3<>"$work/in"
cd "$src"
TERM=xterm-256color DEMO_RUN_DIR=$run RPCNETD_BIN=$bin \
    script -qfec "stty cols 160 rows 48; scripts/demo.sh --port-base $base $duration_flag --tokens 0" \
    /dev/null <"$work/in" >"$work/term.log" 2>&1 &
script_pid=$!

# The demo is up: four PIDs recorded and the director (on the port base) sees both workers.
for _ in $(seq 1 100); do
    pidfiles=("$run"/*.pid)
    n=0; [ -e "${pidfiles[0]}" ] && n=${#pidfiles[@]}
    if [ "$n" -eq 4 ] && "$bin" members --director "127.0.0.1:$base" --output json 2>/dev/null |
        grep -q '"worker-b"' && "$bin" members --director "127.0.0.1:$base" --output json |
        grep -q '"worker-a"'; then
        break
    fi
    kill -0 "$script_pid" 2>/dev/null || fail "the demo ended before it was up"
    sleep 0.1
done
for f in "$run"/*.pid; do recorded+=("$(cat "$f")"); done
[ ${#recorded[@]} -eq 4 ] || fail "expected 4 recorded PIDs, got ${#recorded[@]}"
for pid in "${recorded[@]}"; do ours "$pid" || fail "recorded PID $pid is not a running rpcnetd"; done
"$bin" members --director "127.0.0.1:$base" --output json | grep -q '"worker-a"' ||
    fail "director on port base $base does not list worker-a"
echo "demo_tmux_test: up, PIDs ${recorded[*]}"

sock=$(cat "$run/tmux-socket")
case "$scenario" in
duration) ;;
hangup) kill -KILL "$script_pid" ;; # the terminal closes: the pty hangs up
ctrl-c)
    pane=$(tmux -L "$sock" list-panes -t rpcnetd-demo -F '#{pane_index} #{pane_start_command}' |
        awk '/worker-a/ { print $1; exit }')
    [ -n "$pane" ] || fail "no worker-a pane"
    tmux -L "$sock" send-keys -t "rpcnetd-demo:0.$pane" C-c ;;
*) echo "unknown scenario '$scenario'"; exit 2 ;;
esac

# The demo ends: script(1) returns (or was killed).
for _ in $(seq 1 300); do kill -0 "$script_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$script_pid" 2>/dev/null; then fail "the demo did not end within 30 s"; fi
rc=0; { wait "$script_pid"; } 2>/dev/null || rc=$?
script_pid=""
ended=$SECONDS
if [ "$scenario" != hangup ]; then
    [ "$rc" -eq 0 ] || fail "demo exited $rc"
    grep -q "demo: stopped" "$work/term.log" || fail "the demo did not report its cleanup"
fi

# 5 s after the end: none of the recorded processes runs any more.
gone_after=""
while [ $((SECONDS - ended)) -lt 5 ]; do
    left=0
    for pid in "${recorded[@]}"; do ours "$pid" && left=$((left + 1)); done
    [ $left -eq 0 ] && [ -z "$gone_after" ] && gone_after=$((SECONDS - ended))
    sleep 0.2
done
left=()
for pid in "${recorded[@]}"; do ours "$pid" && left+=("$pid"); done
[ ${#left[@]} -eq 0 ] || fail "rpcnetd PIDs still running 5 s after the demo ended: ${left[*]}"
if tmux -L "$sock" has-session -t rpcnetd-demo 2>/dev/null; then fail "the tmux session still exists"; fi
echo "PASS: scenario=$scenario: all 4 demo processes gone ${gone_after:-?} s after the end"
