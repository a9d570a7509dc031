# Sourced by the demo and benchmark scripts: the processes they start, ended by PID on exit.
#   pids+=($!) after starting a child; `trap stop_children INT TERM EXIT` once.
# stop_children sends SIGTERM (members leave gracefully), then SIGKILL a second later, reaps
# them, and runs on_stop (define it to clean up more, e.g. a temporary directory).
pids=()
stop_children() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if declare -F on_stop >/dev/null; then on_stop; fi
}
