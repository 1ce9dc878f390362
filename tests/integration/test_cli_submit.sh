#!/usr/bin/env bash
# newsmill submit against a real newsmill-queue (free ports, spool in a temp
# dir): files, a directory, JSON lines with bad lines, --json lines and
# summary, exit codes 0 / 4 (partial) / 3 (queue down, within the timeout).
set -uo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}"
nm=$NM_BIN_DIR/newsmill
[ -x "$NM_BIN_DIR/newsmill-queue" ] || { echo "SKIP: newsmill-queue is not built"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nm-submit-XXXXXX")
qpid=
cleanup() {
    [ -n "$qpid" ] && { kill -TERM "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null; }
    rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    "$@" || fail "$what"
}
. "$NM_SOURCE_DIR/tests/support/free_port.sh"
json_field() { # json_field FIELD < line
    /usr/bin/python3 -c 'import json,sys; v=json.loads(sys.stdin.read()); print(json.dumps(v.get(sys.argv[1])) if not isinstance(v.get(sys.argv[1]), str) else v[sys.argv[1]])' "$1"
}

front=tcp://127.0.0.1:$(free_port)
back=tcp://127.0.0.1:$(free_port)
stats=tcp://127.0.0.1:$(free_port)
start_queue() {
    "$NM_BIN_DIR/newsmill-queue" --front "$front" --back "$back" --stats "$stats" \
        --spool "$tmp/queue.db" >>"$tmp/queue.log" 2>&1 &
    qpid=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/${front##*:}") 2>/dev/null && return 0
        sleep 0.05
    done
    cat "$tmp/queue.log"
    echo "queue did not start"
    exit 1
}
start_queue

# 1. A directory and files, one of them missing: exit 4, the rest accepted.
mkdir -p "$tmp/in/sub" "$tmp/in/.hidden"
cp "$NM_SOURCE_DIR"/samples/*.txt "$NM_SOURCE_DIR"/samples/*.html "$tmp/in/"
printf 'Nested\n\nA nested article about Ankara.\n' >"$tmp/in/sub/nested.txt"
printf 'not an article' >"$tmp/in/notes.pdf"
printf 'Hidden\n\nNot read.\n' >"$tmp/in/.hidden/h.txt"
printf 'Lone file\n\nKalın and São Paulo.\n' >"$tmp/lone.txt"
n_files=$(($(ls "$tmp"/in/*.txt "$tmp"/in/*.html | wc -l) + 1))
out=$("$nm" submit --json --batch 3 --queue "$front" "$tmp/in" "$tmp/lone.txt" "$tmp/missing.txt" 2>"$tmp/err")
rc=$?
check "partial submit exits 4 (got $rc)" [ $rc -eq 4 ]
summary=$(tail -n 1 <<<"$out")
check "summary accepted = $((n_files + 1)): $summary" [ "$(json_field accepted <<<"$summary")" = $((n_files + 1)) ]
check "summary rejected = 1: $summary" [ "$(json_field rejected <<<"$summary")" = 1 ]
check "summary has seconds: $summary" grep -q '"seconds":[0-9]' <<<"$summary"
check "summary counts the skipped .pdf: $summary" [ "$(json_field skipped_files <<<"$summary")" = 1 ]
check "reason 'not found' grouped: $summary" grep -q '"not found":1' <<<"$summary"
batches=$(grep -c '"type":"batch"' <<<"$out")
check "one JSON line per batch of 3 ($batches for $((n_files + 1)))" \
    [ "$batches" -eq $(((n_files + 1 + 2) / 3)) ]
check "the missing file is reported" grep -q 'missing.txt: No such file' <<<"$out"

# 2. The same again, human output: accepted again (same ids), summary on stdout.
out=$("$nm" submit --queue "$front" "$tmp/in" 2>"$tmp/err")
rc=$?
check "resubmit exits 0 (got $rc): $(cat "$tmp/err")" [ $rc -eq 0 ]
check "human summary: $out" grep -q "^accepted $n_files articles in" <<<"$out"
check "skipped note: $out" grep -q "skipped 1 file" <<<"$out"

# 3. JSON lines on stdin, with bad lines: reported with line numbers, the rest accepted.
cat >"$tmp/lines.jsonl" <<'EOF'
{"id":"j1","source":"t","published":"2024-05-01T10:00:00Z","content_type":"text","body":"One\n\nKalın met İsmail in Ankara."}
{"id":"j2","body":"Two\n\ntext",
{"id":"j3","published":"next tuesday","body":"Three\n\ntext"}

{"id":"j4","published":1714557600,"content_type":"html","body":"<h1>Four</h1><p>São Paulo.</p>","metadata":{"k":"v"}}
{"id":"j5"}
EOF
out=$("$nm" submit --queue "$front" - <"$tmp/lines.jsonl" 2>"$tmp/err")
rc=$?
check "JSON lines with bad lines exit 4 (got $rc)" [ $rc -eq 4 ]
check "line 2 reported: $(cat "$tmp/err")" grep -q 'stdin: line 2: not JSON' "$tmp/err"
check "line 3 reported" grep -q "stdin: line 3: published 'next tuesday'" "$tmp/err"
check "line 6 reported" grep -q "stdin: line 6: missing field 'body'" "$tmp/err"
check "2 accepted: $out" grep -q '^accepted 2 articles' <<<"$out"
check "3 rejected: $out" grep -q '^rejected 3:' <<<"$out"

# Clean JSON lines from a .jsonl file: exit 0.
grep -v -e '"j2"' -e '"j3"' -e '"j5"' "$tmp/lines.jsonl" >"$tmp/good.jsonl"
out=$("$nm" submit --json --queue "$front" "$tmp/good.jsonl" 2>"$tmp/err")
rc=$?
check "clean .jsonl exits 0 (got $rc): $(cat "$tmp/err")" [ $rc -eq 0 ]
check "clean .jsonl: 2 accepted" [ "$(tail -n 1 <<<"$out" | json_field accepted)" = 2 ]

# A slow stream: what has arrived is sent when the stream is quiet (--flush),
# not held back until a batch is full.
out=$( (echo '{"id":"s1","body":"One\n\ntext"}'; sleep 1; echo '{"id":"s2","body":"Two\n\ntext"}') |
    "$nm" submit --json --flush 100ms --queue "$front" - 2>"$tmp/err")
check "slow stream: two batches of one: $out" [ "$(grep -c '"type":"batch","batch":[12],"articles":1,' <<<"$out")" -eq 2 ]
check "slow stream: 2 accepted" [ "$(tail -n 1 <<<"$out" | json_field accepted)" = 2 ]

# 4. Bad command lines: exit 2.
"$nm" submit >/dev/null 2>&1
check "no paths: exit 2" [ $? -eq 2 ]
"$nm" submit --batch 0 x >/dev/null 2>&1
check "--batch 0: exit 2" [ $? -eq 2 ]
"$nm" submit --help | grep -q -- '--in-flight'
check "--help lists --in-flight" [ $? -eq 0 ]

# 5. The queue stalls (SIGSTOP) for longer than the timeout: submit resends
# and succeeds once it is back, never reporting accepted before the ack.
kill -STOP "$qpid"
(sleep 1.5; kill -CONT "$qpid") &
waker=$!
out=$("$nm" submit --json --timeout 500ms --retries 6 --queue "$front" "$tmp/lone.txt" 2>"$tmp/err")
rc=$?
wait "$waker"
check "stalled queue: exit 0 after resending (got $rc): $out $(cat "$tmp/err")" [ $rc -eq 0 ]
attempts=$(grep '"type":"batch"' <<<"$out" | json_field attempts)
check "stalled queue: the batch took several attempts ($attempts)" [ "${attempts:-0}" -ge 2 ]
check "stalled queue: accepted 1" [ "$(tail -n 1 <<<"$out" | json_field accepted)" = 1 ]

# 6. The queue goes away: exit 3 within the timeout, with a clear message.
kill -TERM "$qpid"
wait "$qpid" 2>/dev/null
qpid=
start_s=$(date +%s%N)
out=$("$nm" submit --json --timeout 1s --retries 1 --queue "$front" "$tmp/lone.txt" 2>"$tmp/err")
rc=$?
elapsed_ms=$((($(date +%s%N) - start_s) / 1000000))
check "queue down: exit 3 (got $rc)" [ $rc -eq 3 ]
# two 1 s attempts; the bound tells them from a hang or the 3 x 5 s defaults
# with room for a loaded machine
check "queue down: within 8 s (took $elapsed_ms ms)" [ $elapsed_ms -lt 8000 ]
check "queue down: says so: $out" grep -q 'not reachable\|no answer\|no acknowledgement' <<<"$out"
check "queue down: nothing accepted" [ "$(tail -n 1 <<<"$out" | json_field accepted)" = 0 ]
"$nm" submit --timeout 500ms --queue "$front" "$tmp/lone.txt" >/dev/null 2>"$tmp/err"
check "queue down, human: message names the endpoint" grep -q "$front" "$tmp/err"

# 7. The queue comes back (same spool): submitting works again.
start_queue
out=$("$nm" submit --queue "$front" "$tmp/lone.txt" 2>"$tmp/err")
check "after restart: accepted ($out $(cat "$tmp/err"))" grep -q '^accepted 1 article ' <<<"$out"

# 8. A refusal that passes (backlog full) is ridden out for --retries x
# --timeout: a queue of at most 2 articles, full, and no worker; with
# --retries 0 the third is refused at once (exit 3); with the default
# retries it is sent again until a worker, started 1 s later, has made room.
front2=tcp://127.0.0.1:$(free_port)
back2=tcp://127.0.0.1:$(free_port)
"$NM_BIN_DIR/newsmill-queue" --front "$front2" --back "$back2" --stats "" --max-backlog 2 \
    --spool "$tmp/full.db" >>"$tmp/queue-full.log" 2>&1 &
q2pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/${front2##*:}") 2>/dev/null && break; sleep 0.05; done
for i in 1 2; do printf 'Full %s\n\nKalın in Ankara, day %s.\n' $i $i >"$tmp/full-$i.txt"; done
printf 'Third\n\nSão Paulo waits for room.\n' >"$tmp/full-3.txt"
out=$("$nm" submit --json --queue "$front2" "$tmp/full-1.txt" "$tmp/full-2.txt" 2>&1)
check "full queue: 2 accepted: $(tail -n 1 <<<"$out")" [ "$(tail -n 1 <<<"$out" | json_field accepted)" = 2 ]
out=$("$nm" submit --json --retries 0 --queue "$front2" "$tmp/full-3.txt" 2>&1)
rc=$?
check "full queue, --retries 0: refused (exit $rc): $(tail -n 1 <<<"$out")" \
    [ "$(tail -n 1 <<<"$out" | json_field accepted)" = 0 ]
(sleep 1; exec "$NM_BIN_DIR/newsmill-worker" --queue "$back2" --stats "" --db "$tmp/full-results.db" \
    >>"$tmp/worker-full.log" 2>&1) &
wpid=$!
out=$("$nm" submit --json --timeout 3s --queue "$front2" "$tmp/full-3.txt" 2>&1)
rc=$?
check "full queue: the third accepted once room was made (exit $rc): $(tail -n 1 <<<"$out")" \
    [ "$rc:$(tail -n 1 <<<"$out" | json_field accepted)" = 0:1 ]
attempts=$(grep '"type":"batch"' <<<"$out" | json_field attempts)
check "full queue: after several attempts ($attempts)" [ "${attempts:-0}" -ge 2 ]
kill -TERM "$wpid" "$q2pid" 2>/dev/null
wait "$wpid" "$q2pid" 2>/dev/null

if [ $fails -gt 0 ]; then
    echo "--- queue log"; tail -n 20 "$tmp/queue.log"
    echo "$fails check(s) failed"
    exit 1
fi
echo "all submit checks passed"
