#!/usr/bin/env bash
# `newsmill stats` and `newsmill watch` against a real collector fed by a
# pretend fleet: JSON and table output, --iterations, --until-idle, and the
# exit codes for a collector that is not there (3) and bad flags (2).
set -euo pipefail
: "${NM_BIN_DIR:?}"
nm="$NM_BIN_DIR/newsmill"
. "$(dirname "$0")/../support/testlib.sh"
stats=$(free_port); query=$(free_port)
q="tcp://127.0.0.1:$query"

# nobody listens: exit 3 with a message, within the timeout
set +e
start=$(date +%s%N)
"$nm" stats --collector "$q" --timeout 300ms >"$tmp/none.out" 2>"$tmp/none.log"; rc=$?
"$nm" watch --collector "$q" --timeout 300ms --iterations 3 >>"$tmp/none.out" 2>>"$tmp/none.log"; rc2=$?
"$nm" stats --bogus >/dev/null 2>&1; rc3=$?
"$nm" watch --iterations x >/dev/null 2>&1; rc4=$?
set -e
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" = 3 ] || fail "stats without a collector exited $rc, want 3"
[ "$rc2" = 3 ] || fail "watch without a collector exited $rc2, want 3"
[ "$rc3" = 2 ] && [ "$rc4" = 2 ] || fail "bad flags exited $rc3/$rc4, want 2"
grep -q "did not answer within 300 ms" "$tmp/none.log" || fail "no clear message"
[ "$elapsed_ms" -lt 3000 ] || fail "took $elapsed_ms ms without a collector"
"$nm" stats --help | grep -q -- "--collector" || fail "stats --help"
"$nm" watch --help | grep -q -- "--until-idle" || fail "watch --help"

"$NM_BIN_DIR/newsmill-collector" --stats-bind "tcp://127.0.0.1:$stats" --query-bind "$q" --http off \
    >"$tmp/collector.log" 2>&1 &
pids+=($!)
# 300 articles at ~100/s per worker: drained in about 1.5 s, then idle reports go on
"$NM_BIN_DIR/statsgen" --stats "tcp://127.0.0.1:$stats" --workers 2 --rate 100 --backlog 300 \
    --seconds 15 --interval 250ms >"$tmp/statsgen.log" 2>&1 &
pids+=($!)

start=$(date +%s)
timeout 12 "$nm" watch --collector "$q" --until-idle --interval 250ms >"$tmp/watch.out" 2>"$tmp/watch.log" ||
    fail "watch --until-idle did not exit 0 (rc $?)"
grep -q "^idle: the backlog is empty" "$tmp/watch.out" || fail "watch did not say idle"
grep -q "statsgen-worker-1" "$tmp/watch.out" || fail "watch showed no worker row"
echo "watch --until-idle returned after $(( $(date +%s) - start )) s"

"$nm" stats --collector "$q" --json >"$tmp/stats.json" || fail "stats --json"
python3 - "$tmp/stats.json" <<'PY' || fail "stats --json content"
import json, sys
s = json.load(open(sys.argv[1]))
t = s["totals"]
assert t["done"] == 300 and t["accepted"] == 300 and t["backlog"] == 0 and t["in_flight"] == 0, t
assert {"1s", "1m", "5m"} <= set(s["rates"]), s["rates"]
assert s["rates"]["5m"] > 0, s["rates"]
assert "worker_extract_seconds" in s["latency"] and s["latency"]["worker_extract_seconds"]["p99"] > 0
roles = sorted(p["role"] for p in s["processes"])
assert roles == ["collector", "queue", "worker", "worker"], roles
assert s["recent_dead"][0]["id"] == "statsgen-poison-1"
print("stats --json: done=%d rate_5m=%.1f processes=%d" % (t["done"], s["rates"]["5m"], len(roles)))
PY
"$nm" stats --collector "$q" >"$tmp/stats.out" || fail "stats"
grep -q "committed 300" "$tmp/stats.out" || fail "stats table has no committed total"
grep -q "worker_extract_seconds" "$tmp/stats.out" || fail "stats table has no latency"
grep -q "invalid utf-8 at byte 17" "$tmp/stats.out" || fail "stats table has no dead letter"
if grep -q $'\033' "$tmp/stats.out"; then fail "ANSI codes in piped output"; fi
"$nm" watch --collector "$q" --iterations 2 --interval 200ms >"$tmp/two.out" || fail "watch --iterations"
[ "$(grep -c '^newsmill fleet' "$tmp/two.out")" = 2 ] || fail "watch --iterations 2 printed $(grep -c '^newsmill fleet' "$tmp/two.out") frames"
# on a terminal, watch redraws the screen (cursor home + clear) every frame
if command -v script >/dev/null; then
    script -qec "$nm watch --collector $q --iterations 2 --interval 200ms" /dev/null >"$tmp/tty.out" 2>&1 ||
        fail "watch on a terminal"
    [ "$(grep -o $'\033\[H\033\[2J' "$tmp/tty.out" | wc -l)" = 2 ] || fail "watch did not clear the screen twice on a terminal"
fi
echo "ok"
