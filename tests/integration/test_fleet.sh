#!/usr/bin/env bash
# scripts/fleet end to end with the real programs, on ports of its own
# (--port-base) and a temporary directory: start (and start again: only what
# is not running is restarted), submit the samples (and ../shared/corpus/bbc
# when present), `newsmill stats --json` totals equal what was submitted,
# `newsmill query` answers, a poison article dead-lettered, requeued, and
# dead again with two failures, then `fleet stop` drains cleanly.
set -uo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}"
for p in newsmill-queue newsmill-worker newsmill-collector newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
export NM_BIN_DIR
nm=$NM_BIN_DIR/newsmill
py=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nm-fleet-XXXXXX")
var=$tmp/var
fleet() { "$NM_SOURCE_DIR/scripts/fleet" "$@" --dir "$var"; }
cleanup() {
    fleet stop --timeout 5 >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; "$@" || fail "$what"; }
json() { # json 'python expression over v' < document
    $py -c 'import json,sys; v=json.load(sys.stdin); print(eval(sys.argv[1]))' "$@"
}

# Five consecutive free ports.
base=$("$NM_SOURCE_DIR/tests/support/free-port-base" 5)
collector=tcp://127.0.0.1:$((base + 3)) queue=tcp://127.0.0.1:$base

# 1. Start: returns once everything is up and says where things are.
out=$(fleet start -w 2 --port-base "$base" 2>&1)
rc=$?
check "fleet start exits 0 (got $rc): $out" [ $rc -eq 0 ]
check "prints the dashboard URL: $out" grep -q "http://127.0.0.1:$((base + 4))/" <<<"$out"
check "prints the queue endpoint" grep -q "$queue" <<<"$out"
for f in queue collector worker-1 worker-2; do
    check "$f.pid and $f.log exist" [ -s "$var/$f.pid" -a -f "$var/$f.log" ]
done
check "fleet.env written" grep -q "NEWSMILL_QUEUE=$queue" "$var/fleet.env"
out=$(fleet status)
check "status exits 0 and lists both workers: $out" grep -q "worker-2 *running" <<<"$out"

# 2. Start again: nothing restarted; kill a worker: only it is restarted.
pids_before=$(cat "$var"/*.pid | sort | tr '\n' ' ')
out=$(fleet start -w 2 2>&1)
check "second start keeps everything: $out" [ "$(grep -c 'already running' <<<"$out")" -eq 4 ]
check "same pids" [ "$(cat "$var"/*.pid | sort | tr '\n' ' ')" = "$pids_before" ]
w2=$(cat "$var/worker-2.pid")
kill -KILL "$w2"
sleep 0.2
out=$(fleet start -w 2 2>&1)
check "restart only worker-2: $out" grep -q "worker-2: started" <<<"$out"
check "others left alone: $out" [ "$(grep -c 'already running' <<<"$out")" -eq 3 ]
check "worker-2 has a new pid" [ "$(cat "$var/worker-2.pid")" != "$w2" ]

# 3. Submit the samples (and the BBC corpus when present).
submitted=0
out=$("$nm" submit --json --queue "$queue" "$NM_SOURCE_DIR/samples" 2>&1)
n=$(tail -n 1 <<<"$out" | json 'v["accepted"]')
check "samples accepted: $out" [ "$n" -ge 8 ]
submitted=$((submitted + n))
corpus=${NM_SHARED_DIR:-$NM_SOURCE_DIR/../shared}/corpus/bbc
if [ -d "$corpus" ]; then
    out=$("$nm" submit --json --queue "$queue" "$corpus" 2>&1)
    n=$(tail -n 1 <<<"$out" | json 'v["accepted"]')
    check "corpus accepted: $(tail -n 1 <<<"$out")" [ "$n" -gt 2000 ]
    submitted=$((submitted + n))
else
    echo "note: $corpus is absent: only the samples are submitted"
fi

# 4. The collector's totals reach what was submitted.
committed=-1
for _ in $(seq 600); do
    committed=$("$nm" stats --json --collector "$collector" 2>/dev/null | json 'v["totals"]["committed"]' 2>/dev/null)
    [ "${committed%.*}" = "$submitted" ] && break
    sleep 0.2
done
check "stats totals: committed $committed of $submitted" [ "${committed%.*}" = "$submitted" ]
articles=$(sqlite3 "$var/results.db" 'select count(*) from article_rows')
check "results.db holds $submitted articles (has $articles)" [ "$articles" = "$submitted" ]

# 5. Queries answer.
out=$("$nm" query --db "$var/results.db" --json search Aberdeen)
check "search finds both wind farm articles: $out" \
    [ "$(json 'sorted(r["id"] for r in v if "wind-farm" in r["id"])' <<<"$out")" = "['samples/wind-farm-regional.txt', 'samples/wind-farm-wire.txt']" ]
out=$("$nm" query --db "$var/results.db" --json dups samples/wind-farm-wire.txt)
check "the near-duplicate is found: $out" grep -q 'samples/wind-farm-regional.txt' <<<"$out"
out=$("$nm" query --db "$var/results.db" --json article samples/sao-paulo-metro.html)
check "article JSON: $out" [ "$(json 'v["title"]' <<<"$out")" = "São Paulo inaugura nova estação da Linha 6" ]
out=$("$nm" query --db "$var/results.db" --json top places)
places=$(sqlite3 "$var/results.db" "select count(*) from entities where type = 'place'")
check "top places answers ($places places stored): $out" [ "$(json 'len(v)' <<<"$out")" -eq "$((places < 10 ? places : 10))" ]

# 6. A poison article (HTML without readable text: the worker cannot extract
# it, a failure that retrying does not cure): dead, requeued unchanged, dead
# again with two failures.
printf '<html><body><nav><p>   </p></nav></body></html>' >"$tmp/poison.html"
"$nm" submit --quiet --queue "$queue" "$tmp/poison.html" >/dev/null
failures() { "$nm" dead --json --queue "$queue" | json '[len(d["failures"]) for d in v["dead"] if d["id"] == sys.argv[2]][:1] or [0]' "$tmp/poison.html" 2>/dev/null | tr -d '[]'; }
for _ in $(seq 100); do [ "$(failures)" = 1 ] && break; sleep 0.1; done
check "poison is a dead letter with 1 failure ($(failures))" [ "$(failures)" = 1 ]
"$nm" dead --requeue --queue "$queue" "$tmp/poison.html" >/dev/null
check "requeue exits 0" [ $? -eq 0 ]
for _ in $(seq 100); do [ "$(failures)" = 2 ] && break; sleep 0.1; done
check "after requeue: dead again with 2 failures ($(failures))" [ "$(failures)" = 2 ]
check "the reason names the cause" grep -q 'empty' <<<"$("$nm" dead --queue "$queue")"
# The same through the Python client: requeue, and dead() shows the third failure.
if [ -f "${NM_BUILD_DIR:-}/python/newsmill_pb2.py" ]; then
    NEWSMILL_PYTHON_DIR=$NM_BUILD_DIR/python PYTHONPATH=$NM_SOURCE_DIR/python $py - "$queue" "$tmp/poison.html" <<'EOF'
import sys, time
import newsmill
c = newsmill.Client(sys.argv[1], timeout=5)
reply = c.requeue([sys.argv[2], "no-such-id"])
assert reply.requeued == 1 and list(reply.not_found) == ["no-such-id"], reply
for _ in range(100):
    dead = [d for d in c.dead().dead if d.id == sys.argv[2]]
    if dead and len(dead[0].failures) == 3:
        break
    time.sleep(0.1)
assert dead and len(dead[0].failures) == 3, dead
assert all(f.reason and f.worker for f in dead[0].failures), dead
EOF
    check "Python requeue and dead(): three failures" [ $? -eq 0 ]
else
    echo "note: no generated Python messages: the Python part is skipped"
fi

# 7. Stop drains every process (SIGTERM, no SIGKILL needed) and cleans up.
pids=$(cat "$var"/*.pid)
out=$(fleet stop 2>&1)
rc=$?
check "stop exits 0: $out" [ $rc -eq 0 ]
check "nothing had to be killed: $out" [ "$(grep -c killing <<<"$out")" -eq 0 ]
gone() { [ ! -d "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
for p in $pids; do
    check "pid $p is gone" gone "$p"
done
check "no pid files left" [ -z "$(ls "$var"/*.pid 2>/dev/null)" ]
fleet status >/dev/null
check "status after stop exits 3" [ $? -eq 3 ]

if [ $fails -gt 0 ]; then
    for f in "$var"/*.log; do echo "--- $f"; tail -n 15 "$f"; done
    echo "$fails check(s) failed"
    exit 1
fi
echo "fleet: all checks passed ($submitted articles)"
