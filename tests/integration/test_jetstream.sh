#!/usr/bin/env bash
# newsmill-queue --store jetstream on a real 3-node nats-server cluster
# (JetStream, free loopback ports, store dirs and routes in a temp dir):
#  1. a NATS URL that does not answer: a clear error naming it, exit non-zero;
#     a stream NEWSMILL with other settings: refused with the reason; a
#     cluster locked with user and password: refused without, served with;
#  2. the front creates the streams (3 replicas); articles submitted through
#     it and processed by two real workers all end in the results databases;
#  3. kill -9 of the nats-server the front is connected to, while a second
#     load is submitted: the front reconnects to another node, every article
#     acked to the producer is stored, none lost; the node restarts;
#  4. a poison article is dead-lettered with its failure, `newsmill dead`
#     lists it, `dead --requeue` puts it back and it dies again with two
#     failures (the history kept);
#  5. a second front on the cluster: producers and the CLI given both
#     (`--queue a,b`) move to the one that answers; kill -9 of the first
#     front under load, with every worker connected to it (given both
#     fronts, `--queue a,b`): the workers move to the second front, the
#     dead front's deliveries come back after the ack wait, nothing acked
#     is lost.
# NM_KEEP=1 keeps the temp dir (logs of every process) for a look after a run.
set -uo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}"
for p in newsmill-queue newsmill-worker newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
command -v nats-server >/dev/null || { echo "SKIP: nats-server missing (scripts/deps.txt)"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing (scripts/deps.txt)"; exit 77; }
nm=$NM_BIN_DIR/newsmill
py=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nm-js-XXXXXX")
pids=()
declare -A npid
cleanup() {
    for p in "${pids[@]}" "${npid[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "${NM_KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; "$@" || fail "$what"; }
json() { # json EXPR: over the document on stdin, or its last line (submit --json)
    $py -c '
import json, sys
t = sys.stdin.read()
try:
    v = json.loads(t)
except ValueError:
    v = json.loads(t.strip().splitlines()[-1])
print(eval(sys.argv[1]))' "$@"
}
connections() { curl -s "http://127.0.0.1:${mport[$1]}/varz" | json 'v["connections"]' 2>/dev/null || echo 0; }
. "$NM_SOURCE_DIR/tests/support/free_port.sh"
. "$NM_SOURCE_DIR/tests/support/natslib.sh"

# The cluster: three nodes, full-mesh routes.
nats_cluster || exit 1
urls=$nats_urls

# 1. A URL that does not answer.
dead_url=nats://127.0.0.1:$(free_port)
t0=$(date +%s)
out=$(timeout 30 "$NM_BIN_DIR/newsmill-queue" --store jetstream --nats "$dead_url" \
    --front "tcp://127.0.0.1:$(free_port)" --back "tcp://127.0.0.1:$(free_port)" --stats "" 2>&1)
rc=$?
check "unanswered NATS URL: exit 1 (got $rc): $out" [ $rc -eq 1 ]
check "the error names the URL: $out" grep -q "$dead_url" <<<"$out"
check "and does not hang ($(($(date +%s) - t0)) s)" [ $(($(date +%s) - t0)) -lt 15 ]

# 1b. A stream present with other settings (limits retention, made here over
# the NATS protocol on a lone node of our own) is refused, never changed.
lone=$(free_port)
mkdir -p "$tmp/lone"
nats-server -a 127.0.0.1 -p "$lone" -js -sd "$tmp/lone" >>"$tmp/lone.log" 2>&1 &
npid[lone]=$!
nats_wait_port "$lone" || { cat "$tmp/lone.log"; echo "lone nats-server did not start"; exit 1; }
made=$($py - "$lone" <<'EOF'
import json, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.recv(4096)
body = json.dumps({"name": "NEWSMILL", "subjects": ["newsmill.articles"], "retention": "limits",
                   "storage": "file", "num_replicas": 1}).encode()
s.sendall(b'CONNECT {"verbose":false}\r\nSUB _INBOX.t 1\r\n'
          b"PUB $JS.API.STREAM.CREATE.NEWSMILL _INBOX.t %d\r\n%s\r\n" % (len(body), body))
got = b""
deadline = time.time() + 5
while b'"config"' not in got and b'"error"' not in got and time.time() < deadline:
    got += s.recv(65536)
print("created" if b'"config"' in got else got[:300])
EOF
)
check "a limits stream made by hand: $made" [ "$made" = created ]
out=$(timeout 30 "$NM_BIN_DIR/newsmill-queue" --store jetstream --nats "nats://127.0.0.1:$lone" \
    --front "tcp://127.0.0.1:$(free_port)" --back "tcp://127.0.0.1:$(free_port)" --stats "" 2>&1)
rc=$?
check "incompatible stream: exit 1 (got $rc)" [ $rc -eq 1 ]
check "the reason is given: $out" grep -q 'NEWSMILL exists with other settings: retention is limits' <<<"$out"
kill -KILL "${npid[lone]}"; wait "${npid[lone]}" 2>/dev/null; unset 'npid[lone]'

# 1c. A cluster locked with a user and password: without them the front is
# refused at start (exit 1, the reason given); with them, from a --config
# file, it starts.
locked=$(free_port)
mkdir -p "$tmp/locked"
nats-server -a 127.0.0.1 -p "$locked" -js -sd "$tmp/locked" --user nm --pass s3cret \
    >>"$tmp/locked.log" 2>&1 &
npid[locked]=$!
nats_wait_port "$locked" || { cat "$tmp/locked.log"; echo "locked nats-server did not start"; exit 1; }
out=$(timeout 30 "$NM_BIN_DIR/newsmill-queue" --store jetstream --nats "nats://127.0.0.1:$locked" \
    --front "tcp://127.0.0.1:$(free_port)" --back "tcp://127.0.0.1:$(free_port)" --stats "" 2>&1)
rc=$?
check "no credentials: exit 1 (got $rc)" [ $rc -eq 1 ]
check "the reason is given: $out" grep -qi "cannot connect to NATS.*auth" <<<"$out"
printf 'nats-user = nm\nnats-password = s3cret\n' >"$tmp/queue.conf"
lfront=tcp://127.0.0.1:$(free_port)
"$NM_BIN_DIR/newsmill-queue" --config "$tmp/queue.conf" --store jetstream \
    --nats "nats://127.0.0.1:$locked" --front "$lfront" --back "tcp://127.0.0.1:$(free_port)" \
    --stats "" >>"$tmp/locked-queue.log" 2>&1 &
lpid=$!
check "with user and password from --config: the front starts" nats_wait_port "${lfront##*:}"
kill -TERM "$lpid"; wait "$lpid" 2>/dev/null
kill -KILL "${npid[locked]}"; wait "${npid[locked]}" 2>/dev/null; unset 'npid[locked]'

# 2. The front on the cluster, two workers. The workers are given the second
# front too (started in 5.): they use the first until it dies.
front=tcp://127.0.0.1:$(free_port)
back=tcp://127.0.0.1:$(free_port)
front2=tcp://127.0.0.1:$(free_port)
back2=tcp://127.0.0.1:$(free_port)
"$NM_BIN_DIR/newsmill-queue" --store jetstream --nats "$urls" --front "$front" --back "$back" \
    --stats "" --lease 3s --worker-timeout 3s --max-attempts 2 --retry-base 100ms \
    >>"$tmp/queue.log" 2>&1 &
pids+=($!)
nats_wait_port "${front##*:}" || { cat "$tmp/queue.log"; echo "queue did not start"; exit 1; }
# "found" when a create that timed out on the front's side was done by the
# cluster and the retry finds the stream: either way the cluster's replicas.
check "streams made with 3 replicas: $(grep -E 'stream (created|found)' "$tmp/queue.log" | head -1)" \
    grep -Eq 'stream (created|found) name=NEWSMILL replicas=3' "$tmp/queue.log"
for w in 1 2; do
    "$NM_BIN_DIR/newsmill-worker" --queue "$back,$back2" --failover-after 3s --stats "" \
        --db "$tmp/results-$w.db" --credit 64 --name "w$w" >>"$tmp/worker-$w.log" 2>&1 &
    pids+=($!)
done

articles() { # articles FROM TO: JSON lines, ids a<N>
    $py - "$1" "$2" <<'EOF'
import json, sys
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    print(json.dumps({"id": "a%d" % i, "source": "js", "content_type": "text",
                      "body": "Article %d\n\nKalın met İsmail in Ankara on day %d. " % (i, i) * 3}))
EOF
}
stored() { # distinct ids over both results databases
    local n=0
    for w in 1 2 3; do
        [ -f "$tmp/results-$w.db" ] && sqlite3 "$tmp/results-$w.db" "select id from article_rows" 2>/dev/null
    done | sort -u | grep -c '^a' || true
}
wait_stored() { # wait_stored N: up to 60 s
    for _ in $(seq 600); do
        [ "$(stored)" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

articles 0 500 >"$tmp/load1.jsonl"
out=$("$nm" submit --json --batch 50 --queue "$front" - <"$tmp/load1.jsonl" 2>&1)
check "first load accepted 500: $(tail -n 1 <<<"$out")" [ "$(json 'v["accepted"]' <<<"$out")" = 500 ]
check "all 500 stored (got $(stored))" wait_stored 500

# A resend of the same articles is not stored twice (message id = article id
# and body hash, within the duplicate window).
last_seq() { curl -s "http://127.0.0.1:${mport[1]}/jsz?streams=true" |
    json '[s["state"]["last_seq"] for s in v["account_details"][0]["stream_detail"] if s["name"] == "NEWSMILL"][0]'; }
before=$(last_seq)
out=$("$nm" submit --json --batch 50 --queue "$front" - <"$tmp/load1.jsonl" 2>&1)
check "resend accepted: $(tail -n 1 <<<"$out")" [ "$(json 'v["accepted"]' <<<"$out")" = 500 ]
check "resend not stored again (stream last seq $before, then $(last_seq))" [ "$(last_seq)" = "$before" ]

# Two articles whose ids (1,001 bytes, under the 1,024 the front accepts)
# differ only at the end are two messages: the message id holds the whole id.
$py - >"$tmp/long-ids.jsonl" <<'EOF'
import json
for end in "12":
    print(json.dumps({"id": "a" + "x" * 999 + end, "source": "js", "content_type": "text",
                      "body": "Long id %s\n\nThe Tigris Basin Network met in Mosul on Monday." % end}))
EOF
had=$(stored)
out=$("$nm" submit --json --queue "$front" - <"$tmp/long-ids.jsonl" 2>&1)
check "two long ids accepted: $(tail -n 1 <<<"$out")" [ "$(json 'v["accepted"]' <<<"$out")" = 2 ]
check "both long ids stored (had $had, got $(stored))" wait_stored $((had + 2))

# 3. kill -9 of the front's node under load (found by its monitoring port). Batches go one by one so that the
# producer keeps going while the node dies; a batch refused is sent again
# (the article id is the message id: no copy twice in the stream).
victim=
for i in 1 2 3; do
    [ "$(connections $i)" -gt 0 ] && victim=$i
done
check "the front's node found" [ -n "$victim" ]
victim=${victim:-2}
articles 500 2000 >"$tmp/load2.jsonl"
split -l 50 "$tmp/load2.jsonl" "$tmp/part-"
acked=500
killed=0
n_parts=0
for part in "$tmp"/part-*; do
    n_parts=$((n_parts + 1))
    if [ $n_parts -eq 8 ]; then
        nats_kill "$victim"
        killed=1
    fi
    for try in 1 2 3 4 5 6 7 8 9 10; do
        out=$("$nm" submit --json --queue "$front" --timeout 3s - <"$part" 2>&1)
        n=$(json 'v["accepted"]' <<<"$out" 2>/dev/null || echo 0)
        [ "$n" = 50 ] && break
        sleep 0.5
    done
    if [ "$n" = 50 ]; then acked=$((acked + 50)); else echo "note: part $part not accepted: $out"; fi
done
check "node n$victim was killed during the load" [ $killed -eq 1 ]
check "every batch acked after the kill ($acked of 2000)" [ $acked -eq 2000 ]
check "every acked article stored (got $(stored) of $acked)" wait_stored "$acked"
others=$(($(connections $((victim % 3 + 1))) + $(connections $(((victim + 1) % 3 + 1)))))
check "the front reconnected to another node ($others connections there)" [ "$others" -gt 0 ]
nats_start "$victim"
check "n$victim restarts" nats_wait_port "${cport[$victim]}"
check "n$victim catches up (/healthz)" nats_wait_healthy "$victim"

# 4. A poison article: its body is only a title (no text): each delivery fails.
# A refusal (the cluster electing a leader after the node's return: CI saw
# 5 s of it) is ridden out by submit itself: --retries 6 x the 5 s timeout
# gives it 30 s.
printf '%s\n' '{"id":"poison","source":"js","content_type":"html","body":"<html></html>"}' >"$tmp/poison.jsonl"
out=$("$nm" submit --json --retries 6 --queue "$front" - <"$tmp/poison.jsonl" 2>&1)
check "poison accepted: $(tail -n 1 <<<"$out")" [ "$(json 'v["accepted"]' <<<"$out" 2>/dev/null)" = 1 ]
failures() { "$nm" dead --json --queue "$front" 2>/dev/null | $py -c '
import json, sys
v = json.load(sys.stdin)
print(([len(d["failures"]) for d in v["dead"] if d["id"] == "poison"] or [0])[0])' 2>/dev/null || echo 0; }
wait_failures() {
    for _ in $(seq 150); do [ "$(failures)" = "$1" ] && return 0; sleep 0.2; done
    return 1
}
check "poison is a dead letter with 1 failure ($(failures))" wait_failures 1
# (a front refuses at once while a request to the cluster timed out less
# than a second ago: the CLI, refused, tries again)
for _ in 1 2 3 4 5; do "$nm" dead --requeue --queue "$front" poison >/dev/null 2>&1 && break; sleep 1; done
check "after requeue: dead again with 2 failures ($(failures))" wait_failures 2
check "the dead letter says why: $("$nm" dead --queue "$front" 2>&1 | head -5)" \
    grep -qi 'empty\|no text\|fail' <<<"$("$nm" dead --queue "$front" 2>&1)"

# 5. Two fronts on one cluster; producers and the CLI given both move to
# the one that answers. kill -9 of the first front under load: the producer
# goes on with the second; the workers, all on the first, move to the second
# (no worker is started on it: without their failover nothing more would be
# stored), and the dead front's deliveries come back after the ack wait
# (lease + worker timeout): every acked article stored.
"$NM_BIN_DIR/newsmill-queue" --store jetstream --nats "$urls" --front "$front2" --back "$back2" \
    --stats "" --lease 3s --worker-timeout 3s --max-attempts 2 --retry-base 100ms \
    >>"$tmp/queue2.log" 2>&1 &
pids+=($!)
nats_wait_port "${front2##*:}" || { cat "$tmp/queue2.log"; echo "second front did not start"; exit 1; }
silent=tcp://127.0.0.1:$(free_port)
articles 2000 2050 >"$tmp/load3.jsonl"
for try in 1 2 3; do
    out=$("$nm" submit --json --timeout 1s --queue "$silent,$front2" - <"$tmp/load3.jsonl" 2>&1)
    n=$(json 'v["accepted"]' <<<"$out" 2>/dev/null || echo 0)
    [ "$n" = 50 ] && break
done
check "a silent first endpoint: the next one takes the batch: $(tail -n 1 <<<"$out")" [ "$n" = 50 ]
acked=$((acked + n))
front1_pid=${pids[0]}
articles 2050 3050 >"$tmp/load4.jsonl"
rm -f "$tmp"/part-*
split -l 50 "$tmp/load4.jsonl" "$tmp/part-"
n_parts=0
for part in "$tmp"/part-*; do
    n_parts=$((n_parts + 1))
    if [ $n_parts -eq 5 ]; then
        kill -KILL "$front1_pid"
        wait "$front1_pid" 2>/dev/null
    fi
    for try in 1 2 3; do
        out=$("$nm" submit --json --timeout 1s --retries 3 --queue "$front,$front2" - <"$part" 2>&1)
        n=$(json 'v["accepted"]' <<<"$out" 2>/dev/null || echo 0)
        [ "$n" = 50 ] && break
    done
    if [ "$n" = 50 ]; then acked=$((acked + 50)); else echo "note: part $part: $out"; fi
done
check "every batch acked across the front's death ($acked of 3050)" [ $acked -eq 3050 ]
check "every acked article stored (got $(stored) of $acked)" wait_stored "$acked"
for w in 1 2; do
    check "worker w$w moved to the second front: $(grep -h 'moving to' "$tmp/worker-$w.log" | tail -n 1)" \
        grep -q "moving to $back2" "$tmp/worker-$w.log"
done
out=$("$nm" dead --json --timeout 1s --queue "$front,$front2" 2>&1)
check "dead letters listed through the list of fronts: $out" grep -q '"poison"' <<<"$out"

# The second front stops cleanly on SIGTERM (under the sanitizer build, a
# leak or an error found on the way makes this exit non-zero).
front2_pid=${pids[-1]}
kill -TERM "$front2_pid"
wait "$front2_pid"
rc=$?
check "second front exits 0 on SIGTERM (got $rc): $(tail -n 3 "$tmp/queue2.log")" [ $rc -eq 0 ]
check "no sanitizer report in the fronts' logs" \
    bash -c "! grep -q 'Sanitizer\|runtime error' '$tmp/queue.log' '$tmp/queue2.log'"

if [ $fails -ne 0 ]; then
    echo "--- queue log"; tail -n 30 "$tmp/queue.log"
    echo "--- worker 1 log"; tail -n 10 "$tmp/worker-1.log"
    echo "$fails failure(s)"
    exit 1
fi
echo "1 passed, 0 failed"
