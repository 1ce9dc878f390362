#!/usr/bin/env bash
# scripts/fleet start --nats 3 with the real programs, on ports of its own
# and a temporary directory: three nats-server nodes (store dirs under the
# fleet directory), the streams made with 3 replicas, two fronts, workers
# and the collector; the samples submitted through the list of fronts are
# all committed; `fleet status` shows every process; `fleet stop` stops
# them all (nats-server included) and status then says nothing runs.
set -euo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}"
. "$(dirname "$0")/../support/testlib.sh"
for p in newsmill-queue newsmill-worker newsmill-collector newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
command -v nats-server >/dev/null || { echo "SKIP: nats-server missing (scripts/deps.txt)"; exit 77; }
export NM_BIN_DIR
var=$tmp/var
fleet() { "$NM_SOURCE_DIR/scripts/fleet" "$@" --dir "$var"; }
trap 'fleet stop --timeout 5 >/dev/null 2>&1 || true; cleanup' EXIT

base=$("$NM_SOURCE_DIR/tests/support/free-port-base" 13)
fleet start --nats 3 -w 2 --port-base "$base" >"$tmp/start.out" 2>&1 || fail "fleet start --nats 3"
grep -q "JetStream cluster nats://127.0.0.1:$((base + 7))" "$tmp/start.out" || fail "the cluster is named"
for i in 1 2 3; do [ -d "$var/nats-$i/jetstream" ] || fail "store dir of node $i under the fleet dir"; done
# created by the first front, or found by it when its create timed out on its
# side but was done by the cluster (the retry then finds it)
grep -Eq 'stream (created|found) name=NEWSMILL replicas=3' "$var/queue.log" "$var/queue-2.log" ||
    fail "the stream made with 3 replicas"
. "$var/fleet.env"
[ "$NEWSMILL_QUEUE" = "tcp://127.0.0.1:$base,tcp://127.0.0.1:$((base + 5))" ] ||
    fail "fleet.env lists both fronts: $NEWSMILL_QUEUE"

n=$(ls "$NM_SOURCE_DIR"/samples/*.txt | wc -l)
"$NM_BIN_DIR/newsmill" submit --queue "$NEWSMILL_QUEUE" "$NM_SOURCE_DIR"/samples/*.txt >"$tmp/submit.out" 2>&1 ||
    fail "submit through the fronts"
committed() { "$NM_BIN_DIR/newsmill" stats --json --collector "$NEWSMILL_COLLECTOR" 2>/dev/null |
    python3 -c 'import json,sys; print(int(json.load(sys.stdin)["totals"]["committed"]))' 2>/dev/null || echo 0; }
for _ in $(seq 150); do [ "$(committed)" -ge "$n" ] && break; sleep 0.2; done
[ "$(committed)" -ge "$n" ] || fail "all $n samples committed (got $(committed))"

fleet status >"$tmp/status.out" 2>&1 || fail "fleet status: $(cat "$tmp/status.out")"
for p in nats-1 nats-2 nats-3 collector queue queue-2 worker-1 worker-2; do
    grep -q "^  $p *running" "$tmp/status.out" || fail "status shows $p running"
done
pids_before=$(cat "$var"/nats-*.pid)
fleet stop >"$tmp/stop.out" 2>&1 || fail "fleet stop"
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
for p in $pids_before; do ! alive "$p" || fail "nats-server $p still runs after stop"; done
rc=0
fleet status >"$tmp/status2.out" 2>&1 || rc=$?
[ $rc = 3 ] || fail "status after stop: exit 3 (got $rc)"
echo "1 passed, 0 failed"
