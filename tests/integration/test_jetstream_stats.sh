#!/usr/bin/env bash
# The JetStream store's figures, and the fronts while NATS is down, on a
# real 3-node nats-server cluster with two fronts (A, B) and a collector:
#  1. backlog, in flight and redelivered come from the stream and consumer
#     state, so both fronts report the same figures and the collector shows
#     them once (not their sum): 300 articles submitted through A with no
#     worker anywhere: backlog 300; a worker on B takes 20 (--credit 20) and
#     holds them (its database "full": --db-max-size 1), then is SIGSTOPped: in flight 20 on both fronts' rows, A included (it
#     delivered nothing); after the ack wait a worker on A gets the 20
#     again: redelivered >= 20, in `newsmill stats --json` and /metrics;
#  2. NATS down (kill -9 of all three nodes): a submit through A is refused
#     at once (not after a wait) and counted as
#     queue_articles_rejected_total{reason="unavailable"}; A's reactor goes on
#     answering: its worker (given A,B, --failover-after 3s) does not move in
#     8 s of outage; the nodes restart: A reconnects by itself, a submit is
#     accepted again and every accepted article is stored.
set -euo pipefail
: "${NM_BIN_DIR:?}"
. "$(dirname "$0")/../support/testlib.sh"
. "$(dirname "$0")/../support/natslib.sh"
for p in newsmill-queue newsmill-worker newsmill-collector newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
command -v nats-server >/dev/null || { echo "SKIP: nats-server missing (scripts/deps.txt)"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing (scripts/deps.txt)"; exit 77; }
trap 'nats_cleanup; cleanup' EXIT
nm=$NM_BIN_DIR/newsmill
nats_cluster || fail "the cluster did not start"

stats=tcp://127.0.0.1:$(free_port); query=tcp://127.0.0.1:$(free_port); http=$(free_port)
"$NM_BIN_DIR/newsmill-collector" --stats-bind "$stats" --query-bind "$query" \
    --http "127.0.0.1:$http" --stale-after 3s >"$tmp/collector.log" 2>&1 &
pids+=($!)
declare -A front back qpid
for f in A B; do
    front[$f]=tcp://127.0.0.1:$(free_port); back[$f]=tcp://127.0.0.1:$(free_port)
    "$NM_BIN_DIR/newsmill-queue" --store jetstream --nats "$nats_urls" --front "${front[$f]}" \
        --back "${back[$f]}" --stats "$stats" --instance "front-$f" --lease 3s \
        --worker-timeout 3s >"$tmp/queue-$f.log" 2>&1 &
    qpid[$f]=$!
    pids+=($!)
    nats_wait_port "${front[$f]##*:}" || fail "front $f did not start"
done

snap() { "$nm" stats --json --collector "$query" 2>/dev/null; }
# q PYEXPR: evaluated over the snapshot v (empty output when none)
q() { snap | python3 -c '
import json, sys
try:
    v = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
def metric(name, **labels):
    return sum(m.get("value", 0) for m in v["metrics"] if m["name"] == name and
               all(m["labels"].get(k) == x for k, x in labels.items()))
def row(inst):
    return ([p for p in v["processes"] if p["instance"] == inst] or [{}])[0]
print(eval("(" + sys.argv[1] + ")"))' "$1"; }
wait_q() { # wait_q PYEXPR: until it prints True, up to 30 s
    for _ in $(seq 150); do [ "$(q "$1")" = True ] && return 0; sleep 0.2; done
    return 1
}
articles() { # articles FROM TO
    python3 - "$1" "$2" <<'PY'
import json, sys
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    print(json.dumps({"id": "s%d" % i, "source": "js", "content_type": "text",
                      "body": "Article %d\n\nMet Anna Berg in Oslo on day %d. " % (i, i) * 3}))
PY
}

# 1. Figures from the stream and the consumer.
articles 0 300 >"$tmp/load1.jsonl"
"$nm" submit --queue "${front[A]}" - <"$tmp/load1.jsonl" >"$tmp/submit1.out" 2>&1 || fail "submit 1"
wait_q 'v["totals"]["backlog"] == 300 and row("front-A").get("in_flight") == 0 and
        row("front-B").get("state") == "running"' ||
    fail "backlog 300 once (not the sum of two fronts): $(q 'v["totals"]')"
sleep 2 # both fronts have reported since
check=$(q 'v["totals"]["backlog"]')
[ "$check" = 300.0 ] || [ "$check" = 300 ] || fail "backlog stays 300 with both fronts reporting: $check"
grep -q '^newsmill_fleet_queue_backlog_articles{shared="jetstream"} 300' \
    <(curl -s "http://127.0.0.1:$http/metrics") || fail "/metrics: $(curl -s "http://127.0.0.1:$http/metrics" | grep backlog)"

"$NM_BIN_DIR/newsmill-worker" --queue "${back[B]}" --stats "" --db "$tmp/results-b.db" \
    --credit 20 --db-max-size 1 --name wb >"$tmp/worker-b.log" 2>&1 &
wb=$!
pids+=($wb)
wait_q 'v["totals"]["in_flight"] >= 20' || fail "in flight 20: $(q 'v["totals"]')"
kill -STOP "$wb"
# (a fetch may reserve one more than the worker's credit: JetStream counts it)
wait_q 'row("front-A").get("in_flight") >= 20 and
        row("front-A").get("in_flight") == row("front-B").get("in_flight") and
        v["totals"]["in_flight"] == row("front-A")["in_flight"] and
        v["totals"]["backlog"] + v["totals"]["in_flight"] == 300' ||
    fail "both fronts report the in flight of B, once: $(q '[row("front-A"), row("front-B"), v["totals"]]')"

"$NM_BIN_DIR/newsmill-worker" --queue "${back[A]},${back[B]}" --failover-after 3s --stats "$stats" \
    --db "$tmp/results-a.db" --credit 64 --name wa >"$tmp/worker-a.log" 2>&1 &
pids+=($!)
wait_q 'metric("queue_articles_redelivered_total", shared="jetstream") >= 20' ||
    fail "redelivered >= 20 after the ack wait: $(q 'metric("queue_articles_redelivered_total", shared="jetstream")')"
stored() { sqlite3 "$tmp/results-a.db" "select count(*) from article_rows" 2>/dev/null || echo 0; }
wait_stored() { for _ in $(seq 300); do [ "$(stored)" -ge "$1" ] && return 0; sleep 0.2; done; return 1; }
wait_stored 300 || fail "all 300 stored by wa (got $(stored))"
kill -KILL "$wb"
wait_q 'v["totals"]["backlog"] == 0 and v["totals"]["in_flight"] == 0' ||
    fail "backlog and in flight back to 0: $(q 'v["totals"]')"

# 2. NATS down: refused at once, counted, the reactor goes on; then back.
moves_before=$(grep -c 'moving to' "$tmp/worker-a.log" || true)
for i in 1 2 3; do nats_kill $i; done
sleep 1
articles 300 310 >"$tmp/load2.jsonl"
t0=$(date +%s%N)
if "$nm" submit --queue "${front[A]}" --timeout 5s --retries 0 - <"$tmp/load2.jsonl" >"$tmp/submit2.out" 2>&1; then
    fail "a submit with NATS down was accepted: $(cat "$tmp/submit2.out")"
fi
ms=$((($(date +%s%N) - t0) / 1000000))
grep -qi 'unavailable' "$tmp/submit2.out" || fail "the refusal says why: $(cat "$tmp/submit2.out")"
[ $ms -lt 3000 ] || fail "refused at once (took $ms ms)"
wait_q 'metric("queue_articles_rejected_total", reason="unavailable") >= 10' ||
    fail "refusals counted: $(q '[m for m in v["metrics"] if m["name"] == "queue_articles_rejected_total"]')"
sleep 8
moves=$(grep -c 'moving to' "$tmp/worker-a.log" || true)
[ "$moves" = "$moves_before" ] ||
    fail "front A kept answering its worker during the outage (it moved: $(grep 'moving to' "$tmp/worker-a.log" | tail -n 1))"
for i in 1 2 3; do nats_start $i; done
accepted=0
for _ in $(seq 60); do
    if "$nm" submit --json --queue "${front[A]}" --timeout 3s - <"$tmp/load2.jsonl" >"$tmp/submit3.out" 2>&1; then
        accepted=1
        break
    fi
    sleep 0.5
done
[ $accepted = 1 ] || fail "submits accepted again once NATS is back: $(cat "$tmp/submit3.out")"
wait_stored 310 || fail "every accepted article stored (got $(stored) of 310)"
grep -q 'JetStream' "$tmp/queue-A.log" || true
echo "1 passed, 0 failed"
