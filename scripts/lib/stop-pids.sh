# Sourced by the demo scripts (bash). stop_pids SECONDS PID...: SIGTERM to each PID (rpcnetd then
# leaves the cluster and drains), SIGKILL to those still running after SECONDS. Jobs of the
# calling shell are disowned first, so bash prints no "line N: ... Killed" report for them.
stop_pids() {
    local limit=$1 pid alive
    shift
    [ $# -eq 0 ] && return 0
    kill -TERM "$@" 2>/dev/null || true
    for _ in $(seq 1 $((limit * 10))); do
        alive=0
        for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && return 0
        sleep 0.1
    done
    disown -a 2>/dev/null || true
    kill -KILL "$@" 2>/dev/null || true
}

# The processes a script starts, ended by PID on exit: `pids+=($!)` after starting each child and
# `trap stop_children INT TERM EXIT` once. stop_children stops them with stop_pids (SIGTERM, then
# SIGKILL after 2 s), reaps them, and runs on_stop when the script defines it (e.g. to remove a
# temporary directory).
pids=()
stop_children() {
    trap - INT TERM EXIT
    stop_pids 2 "${pids[@]}"
    wait 2>/dev/null || true
    if declare -F on_stop >/dev/null; then on_stop; fi
}
