#!/usr/bin/env bash
# Time partitions with real processes: two workers write 2-second partitions
# (one file per worker slot per period) while articles arrive over several
# periods; every article lands exactly once across the files, also the ones
# submitted again in a later period (replaced across partitions and slots);
# a restarted worker takes its slot again; `newsmill prune` removes the
# closed partitions older than --older-than and says so, never one a worker
# has open; a worker with --retention prunes on its own; query reads them all.
# With no --db, a worker writes partitions in ./var/results and query reads
# them there.
set -euo pipefail
: "${NM_BIN_DIR:?}"
for p in newsmill-queue newsmill-worker newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
. "$(dirname "$0")/../support/testlib.sh"
nm=$NM_BIN_DIR/newsmill
front=tcp://127.0.0.1:$(free_port) back=tcp://127.0.0.1:$(free_port)
res=$tmp/res

"$NM_BIN_DIR/newsmill-queue" --front "$front" --back "$back" --stats "" \
    --spool "$tmp/queue.db" >"$tmp/queue.log" 2>&1 &
pids+=($!)
start_worker() { # N [extra flags]: worker N logging to worker-N.log
    local n=$1
    shift
    "$NM_BIN_DIR/newsmill-worker" --queue "$back" --stats "" --results-dir "$res" \
        --partition-period 2s --partition-grace 500ms --flush-ms 20 --name "w$n" "$@" \
        >>"$tmp/worker-$n.log" 2>&1 &
    wpid[$n]=$!
    pids+=($!)
}
declare -a wpid
start_worker 1
sleep 0.3
start_worker 2

batch() { # FIRST LAST [WORD]: JSON lines of articles gen-FIRST..gen-LAST
    local i
    for ((i = $1; i <= $2; i++)); do
        printf '{"id":"gen-%03d","body":"Report %d %s\\n\\nAngela Merkel met officials in Berlin on day %d. Talks on water went on late."}\n' \
            "$i" "$i" "${3:-first}" "$i"
    done
}
# total rows and distinct ids across every partition
count() {
    local rows=0 f
    : >"$tmp/ids.txt"
    for f in "$res"/results-*.db; do
        [ -s "$f" ] || continue
        # (a file being created has no tables yet: 0)
        rows=$((rows + $(sqlite3 -cmd '.timeout 3000' "$f" 'select count(*) from article_rows' 2>/dev/null || echo 0)))
        sqlite3 -cmd '.timeout 3000' "$f" 'select id from article_rows' >>"$tmp/ids.txt" 2>/dev/null || true
    done
    echo "$rows $(sort -u "$tmp/ids.txt" | grep -c . || true)"
}
wait_count() { # ROWS: until the files hold ROWS rows, ROWS distinct ids
    local c
    for _ in $(seq 200); do
        c=$(count)
        [ "$c" = "$1 $1" ] && return 0
        sleep 0.1
    done
    fail "partitions hold '$c' (rows, distinct ids), want $1"
}

for k in 0 1 2; do # three bursts, each in its own period or two
    batch $((k * 20)) $((k * 20 + 19)) >"$tmp/b$k.jsonl"
    "$nm" submit --quiet --queue "$front" "$tmp/b$k.jsonl" >"$tmp/submit.log" 2>&1 || fail "submit $k"
    wait_count $((k * 20 + 20))
    sleep 2.1
done
ls "$res" >"$tmp/files.out"
n_files=$(grep -c '^results-.*-2s-w[12]\.db$' "$tmp/files.out" || true)
[ "$n_files" -ge 3 ] || fail "want at least 3 partitions, have $n_files"
grep -q -- '-w2\.db$' "$tmp/files.out" || fail "the second worker wrote no partition of its own"
grep -q '^ids-w1\.db$' "$tmp/files.out" || fail "no id index of slot w1"

# submitted again, in a later period: replaced wherever the earlier row is
batch 0 19 again >"$tmp/again.jsonl"
"$nm" submit --quiet --queue "$front" "$tmp/again.jsonl" >>"$tmp/submit.log" 2>&1 || fail "submit again"
for _ in $(seq 100); do
    again=$(for f in "$res"/results-*.db; do sqlite3 -cmd '.timeout 3000' "$f" "select count(*) from article_rows where title like '%again%'" 2>/dev/null || echo 0; done |
        paste -sd+ | bc)
    [ "$again" = 20 ] && break
    sleep 0.1
done
[ "$again" = 20 ] || fail "$again of 20 articles submitted again were stored again"
wait_count 60 # (an id is in two files from the new row's commit to the old row's removal)

# query reads every partition
"$nm" query --dir "$res" --json --limit 1000 entity Merkel >"$tmp/q.out" 2>"$tmp/q.log" || fail "query --dir"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/q.out")" = 60 ] ||
    fail "query over the partitions did not find the 60 articles"

# a restarted worker takes its slot again (whichever it had: the two start
# together, and the first to get going takes w1)
slot=$(sed -n 's/.*results in partitions.* slot=\(w[12]\).*/\1/p' "$tmp/worker-1.log")
[ -n "$slot" ] || fail "worker 1 logged no slot"
kill -TERM "${wpid[1]}"
wait "${wpid[1]}" 2>/dev/null || true
start_worker 1
for _ in $(seq 100); do
    [ "$(grep -a 'results in partitions' "$tmp/worker-1.log" | grep -c "slot=$slot")" = 2 ] && break
    sleep 0.1
done
[ "$(grep -a 'results in partitions' "$tmp/worker-1.log" | grep -c "slot=$slot")" = 2 ] ||
    fail "the restarted worker did not take slot $slot again"

# prune: the closed partitions older than 1 s go, the open ones stay
sleep 1.5
"$nm" prune --dir "$res" --older-than 1s >"$tmp/prune.out" 2>"$tmp/prune.log" || fail "prune"
grep -q '^removed .*results-.*\.db ([0-9]* bytes)$' "$tmp/prune.out" || fail "prune removed nothing"
grep -q '^removed [0-9]* partitions\?, ' "$tmp/prune.out" || fail "prune printed no summary"
for f in $(awk '/^removed \// {print $2}' "$tmp/prune.out"); do
    [ ! -e "$f" ] && [ ! -e "$f-wal" ] || fail "$f still there after prune said it removed it"
done
grep -q 'partition kept.*a writer has it open' "$tmp/prune.log" || fail "prune found no open partition to keep"
batch 100 104 >"$tmp/b9.jsonl" # the workers still write
"$nm" submit --quiet --queue "$front" "$tmp/b9.jsonl" >>"$tmp/submit.log" 2>&1 || fail "submit after prune"
for _ in $(seq 100); do
    "$nm" query --dir "$res" --json --limit 1000 entity Merkel 2>/dev/null | grep -q 'gen-104' && break
    sleep 0.1
done
"$nm" query --dir "$res" --json entity Merkel 2>/dev/null | grep -q 'gen-104' || fail "no writing after prune"

# bad flags
"$nm" prune --dir "$res" >/dev/null 2>"$tmp/bad.log" && fail "prune without --older-than succeeded"
grep -q 'older-than' "$tmp/bad.log" || fail "prune without --older-than: no reason"
"$nm" prune --dir "$tmp/nowhere" --older-than 1d >/dev/null 2>>"$tmp/bad.log" && fail "prune of a missing dir succeeded"

# retention by the worker: a worker restarted with --retention 2s, alone (so
# that it gets the articles; it takes the lowest free slot, w1)
kill -TERM "${wpid[1]}" "${wpid[2]}"
wait "${wpid[1]}" "${wpid[2]}" 2>/dev/null || true
start_worker 2 --retention 2s
for k in 1 2 3 4; do
    batch $((200 + k * 5)) $((204 + k * 5)) >"$tmp/r$k.jsonl"
    "$nm" submit --quiet --queue "$front" "$tmp/r$k.jsonl" >>"$tmp/submit.log" 2>&1 || fail "submit r$k"
    sleep 2.1
done
# the first partition this worker created after it started: gone on schedule
first_new=$(grep -a "newsmill-worker\[${wpid[2]}\].*results database created" "$tmp/worker-2.log" |
    head -1 | sed 's/.*path=\([^ ]*\).*/\1/')
[ -n "$first_new" ] || fail "the restarted worker created no partition"
grep -aq "partition removed path=$first_new" "$tmp/worker-2.log" ||
    fail "the worker with --retention did not remove $first_new, made after it started, on its schedule"
[ ! -e "$first_new" ] || fail "$first_new still there"

# The defaults: a worker given no --db writes partitions in ./var/results,
# and query given no --db/--dir reads them (a ./var/results.db beside them
# is not what it reads).
mkdir -p "$tmp/bare/var"
(cd "$tmp/bare" && exec "$NM_BIN_DIR/newsmill-worker" --queue "$back" --stats "" --name bare \
    >>"$tmp/worker-bare.log" 2>&1) &
bare=$!
pids+=($bare)
kill -TERM "${wpid[2]}" 2>/dev/null || true
wait "${wpid[2]}" 2>/dev/null || true
batch 300 304 bare >"$tmp/bare.jsonl"
"$nm" submit --quiet --queue "$front" "$tmp/bare.jsonl" >>"$tmp/submit.log" 2>&1 || fail "submit bare"
for _ in $(seq 100); do
    out=$(cd "$tmp/bare" && "$nm" query --json -n 100 search bare 2>/dev/null || true)
    [ "$(grep -o '"id":"gen-3' <<<"$out" | wc -l)" = 5 ] && break
    sleep 0.1
done
[ "$(grep -o '"id":"gen-3' <<<"$out" | wc -l)" = 5 ] ||
    fail "a bare worker's articles found by a bare query: $out; $(ls -la "$tmp/bare/var" "$tmp/bare/var/results" 2>&1)"
ls "$tmp/bare/var/results"/results-*-w1.db >/dev/null 2>&1 ||
    fail "no partition in ./var/results: $(ls -la "$tmp/bare/var" 2>&1)"
[ ! -e "$tmp/bare/var/results.db" ] || fail "a bare worker wrote ./var/results.db"
echo "partitions: $n_files files over 3 periods, 60 articles once each, 20 replaced across partitions; prune and --retention ok"
