# Sourced by the cluster benchmarks (bash). A network namespace of their own, with only loopback:
#   netns_up NAME    creates it and brings lo up (fails, with ip's message on stderr, without root
#                    or namespaces)
#   netns_down NAME  deletes it (quietly; nothing to do if it is gone)
#   netns_exec NAME COMMAND...  runs COMMAND inside, in the foreground. A child whose PID the
#                    caller keeps must be started with `ip netns exec NAME ... &` itself: ip execs in
#                    place (same PID), a backgrounded shell function would not.
netns_up() {
    ip netns add "$1" && ip -n "$1" link set lo up
}

netns_down() {
    ip netns del "$1" 2>/dev/null || true
}

netns_exec() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}
