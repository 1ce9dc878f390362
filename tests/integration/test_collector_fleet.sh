#!/usr/bin/env bash
# The collector with the real pipeline: newsmill-queue and two
# newsmill-worker processes report to it while the bundled samples (and one
# article too long for the queue) go through. `newsmill watch --until-idle`
# returns, `newsmill stats --json` totals match what was submitted, the
# rejection shows under errors by reason, latencies are merged from both
# workers, and the real /metrics passes promtool.
set -euo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}"
. "$(dirname "$0")/../support/testlib.sh"
for p in newsmill-queue newsmill-worker newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
front=$(free_port); back=$(free_port); stats=$(free_port); query=$(free_port); http=$(free_port)
S="tcp://127.0.0.1:$stats"; Q="tcp://127.0.0.1:$query"

"$NM_BIN_DIR/newsmill-collector" --stats-bind "$S" --query-bind "$Q" --http "127.0.0.1:$http" \
    >"$tmp/collector.log" 2>&1 &
pids+=($!)
"$NM_BIN_DIR/newsmill-queue" --front "tcp://127.0.0.1:$front" --back "tcp://127.0.0.1:$back" --stats "$S" \
    --spool "$tmp/queue.db" --max-article-bytes 64K >"$tmp/queue.log" 2>&1 &
pids+=($!)
# both workers share one results database, as on one host
for i in 1 2; do
    "$NM_BIN_DIR/newsmill-worker" --queue "tcp://127.0.0.1:$back" --stats "$S" --db "$tmp/results.db" \
        --name "worker-$i" >"$tmp/worker-$i.log" 2>&1 &
    pids+=($!)
done

# every process is on the collector's table before anything is submitted
seen=""
for _ in $(seq 1 120); do
    seen=$("$NM_BIN_DIR/newsmill" stats --collector "$Q" --json 2>/dev/null | python3 -c '
import json, sys
print(" ".join(sorted(p["role"] for p in json.load(sys.stdin)["processes"] if p["status"] == "live")))' || true)
    [ "$seen" = "collector queue worker worker" ] && break
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || fail "a process exited early"; done
    sleep 0.25
done
[ "$seen" = "collector queue worker worker" ] || fail "the collector sees: $seen"

mkdir -p "$tmp/in"
cp -r "$NM_SOURCE_DIR/samples/." "$tmp/in/"
{ echo "Too long"; echo; for _ in $(seq 1 2000); do echo "This line makes the article longer than the queue takes."; done; } \
    >"$tmp/in/too-long.txt"
"$NM_BIN_DIR/newsmill" submit --queue "tcp://127.0.0.1:$front" --json --quiet "$tmp/in" \
    >"$tmp/submit.out" 2>"$tmp/submit.log" || true
accepted=$(tail -n 1 "$tmp/submit.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accepted"])') ||
    fail "no submit summary"
[ "$accepted" -ge 5 ] || fail "only $accepted articles accepted"

timeout 40 "$NM_BIN_DIR/newsmill" watch --collector "$Q" --until-idle --interval 250ms \
    >"$tmp/watch.out" 2>"$tmp/watch.log" || fail "watch --until-idle (rc $?)"
# the workers' last reports may trail the queue's by a moment
for _ in $(seq 1 20); do
    "$NM_BIN_DIR/newsmill" stats --collector "$Q" --json >"$tmp/stats.json" || fail "stats --json"
    python3 - "$tmp/stats.json" "$accepted" <<'PY' && break
import json, sys
s, accepted = json.load(open(sys.argv[1])), int(sys.argv[2])
t = s["totals"]
sys.exit(0 if t["done"] == accepted else 1)
PY
    sleep 0.25
done
python3 - "$tmp/stats.json" "$accepted" <<'PY' || fail "stats do not add up"
import json, sys
s, accepted = json.load(open(sys.argv[1])), int(sys.argv[2])
t = s["totals"]
assert t["accepted"] == accepted, (t, accepted)
assert t["done"] == accepted and t["dead"] == 0, (t, accepted)
assert t["backlog"] == 0 and t["in_flight"] == 0, t
live = sorted(p["role"] for p in s["processes"] if p["status"] == "live")
assert live == ["collector", "queue", "worker", "worker"], s["processes"]
assert any(e["metric"] == "queue_articles_rejected_total" for e in s["errors"]), s["errors"]
workers = [p for p in s["processes"] if p["role"] == "worker"]
assert sum(p["articles_total"] for p in workers) == accepted, workers
for stage in ("worker_extract_seconds", "worker_submit_to_commit_seconds", "worker_persist_seconds"):
    l = s["latency"][stage]
    assert l["count"] >= 1 and 0 < l["p50"] <= l["p95"] <= l["p99"], (stage, l)
print("fleet: accepted=%d done=%d p99 submit->commit=%.3fs errors=%r"
      % (accepted, t["done"], s["latency"]["worker_submit_to_commit_seconds"]["p99"],
         [(e["reason"], e["count"]) for e in s["errors"]]))
PY
curl -sf "http://127.0.0.1:$http/metrics" >"$tmp/metrics.txt" || fail "no /metrics"
grep -q '^newsmill_fleet_queue_backlog_articles 0$' "$tmp/metrics.txt" || fail "no fleet backlog in /metrics"
grep -q '^newsmill_worker_articles_done_total{instance="worker-1",role="worker"' "$tmp/metrics.txt" ||
    fail "no per-worker series in /metrics"
if command -v promtool >/dev/null; then
    promtool check metrics <"$tmp/metrics.txt" >"$tmp/promtool.log" 2>&1 || { cat "$tmp/promtool.log" >&2; fail "promtool"; }
    echo "promtool check metrics: ok on the real fleet ($(wc -l <"$tmp/metrics.txt") lines)"
fi
