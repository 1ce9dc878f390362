# Network namespaces for the multi-host tests: source it, then
#   netns_kill NS...      kill -9 of every process in each namespace
#   netns_remove NS...    netns_kill, then delete the namespaces
netns_kill() {
    local ns pid
    for ns in "$@"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    done
}
netns_remove() {
    local ns
    netns_kill "$@"
    for ns in "$@"; do ip netns del "$ns" 2>/dev/null || true; done
}
