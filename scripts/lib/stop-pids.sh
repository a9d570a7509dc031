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
