# Shared by the tests of the read side (serve, newsroom, export): source it
# after testlib.sh. fleet_results starts a real fleet (queue, one worker,
# collector) in $tmp/var on free ports, submits samples/ and waits until
# $tmp/var/results.db holds every sample article. It sets $var, $queue
# (the producers' endpoint) and stops the fleet at exit; fleet_stop stops it
# earlier.
var=$tmp/var
fleet() { "$NM_SOURCE_DIR/scripts/fleet" "$@" --dir "$var"; }
fleet_stop() { fleet stop --timeout 5 >/dev/null 2>&1 || true; }
trap 'fleet_stop; cleanup' EXIT

fleet_results() {
    export NM_BIN_DIR
    local base n want
    base=$("$NM_SOURCE_DIR/tests/support/free-port-base" 5)
    fleet start -w 1 --port-base "$base" >"$tmp/fleet.log" 2>&1 || fail "fleet start"
    queue=tcp://127.0.0.1:$base
    "$NM_BIN_DIR/newsmill" submit --quiet --queue "$queue" "$NM_SOURCE_DIR/samples" >"$tmp/submit.log" 2>&1 ||
        fail "submit"
    want=$(( $(grep -c . "$NM_SOURCE_DIR/samples/briefs.jsonl") + $(ls "$NM_SOURCE_DIR/samples" | grep -cv '\.jsonl$') ))
    for _ in $(seq 300); do
        n=$(sqlite3 "$var/results.db" 'select count(*) from article_rows' 2>/dev/null || echo 0)
        [ "$n" = "$want" ] && return 0
        sleep 0.1
    done
    fail "results.db holds $n of $want articles"
}
