#!/usr/bin/env bash
# Every directory entry newsmill creates survives a power cut: after a new
# directory (mkdir), a new spool or results database, and a renamed key file,
# the directory holding the new entry is fsynced. Checked on the real
# programs' system calls (strace): the queue creating its spool under new
# directories, a worker creating its results database likewise, and
# `newsmill keygen` writing a key pair into a new directory.
set -euo pipefail
: "${NM_BIN_DIR:?}"
. "$(dirname "$0")/../support/testlib.sh"
command -v strace >/dev/null || { echo "SKIP: strace is not installed (scripts/deps.txt)"; exit 77; }
# LeakSanitizer cannot run under ptrace (sanitizer builds); the rest of ASan can.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# unsynced TRACE: prints every directory that got a new entry (mkdir, rename,
# creation of the files named in NEW_FILES) and was not fsynced afterwards.
unsynced() {
    awk -v new_files="${NEW_FILES:-}" '
        function parent(p) { sub(/\/[^\/]*$/, "", p); return p == "" ? "/" : p }
        function quoted(s,   a) { match(s, /"[^"]*"/); return substr(s, RSTART + 1, RLENGTH - 2) }
        BEGIN { n = split(new_files, f, " "); for (i = 1; i <= n; i++) is_new[f[i]] = 1 }
        / mkdir\(/ && / = 0$/ { need[parent(quoted($0))] = 1 }
        / rename\(/ && / = 0$/ { line = $0; sub(/^[^,]*, /, "", line); need[parent(quoted(line))] = 1 }
        / openat\(/ && /O_CREAT/ && !/= -1/ { p = quoted($0); if (p in is_new) { need[parent(p)] = 1; delete is_new[p] } }
        / openat\(/ && !/= -1/ { fd = $NF; path[fd] = quoted($0) }
        / (fsync|fdatasync)\(/ && / = 0$/ { match($0, /\([0-9]+/); fd = substr($0, RSTART + 1, RLENGTH - 1); delete need[path[fd]] }
        END { for (d in need) print d }
    ' "$1"
}
trace() { # trace NAME COMMAND...: runs COMMAND under strace into $tmp/NAME.trace
    local name=$1; shift
    exec strace -f -qq -o "$tmp/$name.trace" -e trace=mkdir,openat,rename,fsync,fdatasync "$@"
}
stop_traced() { # stop_traced STRACE_PID: SIGTERM to the program strace runs, then wait
    local child
    child=$(pgrep -P "$1" | head -n 1)
    [ -n "$child" ] && kill -TERM "$child"
    wait "$1"
}

# The queue: spool in two new directories.
front=tcp://127.0.0.1:$(free_port); back=tcp://127.0.0.1:$(free_port)
trace queue "$NM_BIN_DIR/newsmill-queue" --front "$front" --back "$back" --stats "" \
    --spool "$tmp/q1/q2/queue.db" >"$tmp/queue.log" 2>&1 &
qpid=$!; pids+=("$qpid")
for _ in $(seq 200); do grep -q "queue started" "$tmp/queue.log" && break; sleep 0.05; done
grep -q "queue started" "$tmp/queue.log" || fail "the queue did not start"
stop_traced "$qpid" || fail "the queue did not stop cleanly"
left=$(NEW_FILES="$tmp/q1/q2/queue.db" unsynced "$tmp/queue.trace" | tr "\n" " ")
[ -z "$left" ] || fail "queue: directories with new entries never fsynced: $left"

# A worker: results database in two new directories (no queue needed to open it).
trace worker "$NM_BIN_DIR/newsmill-worker" --queue "$back" --stats "" \
    --db "$tmp/r1/r2/results.db" >"$tmp/worker.log" 2>&1 &
wpid=$!; pids+=("$wpid")
for _ in $(seq 200); do [ -e "$tmp/r1/r2/results.db-wal" ] && break; sleep 0.05; done
sleep 0.3 # the schema commit syncs after the WAL appears
stop_traced "$wpid" || true
[ -e "$tmp/r1/r2/results.db" ] || fail "the worker did not create its results database"
left=$(NEW_FILES="$tmp/r1/r2/results.db" unsynced "$tmp/worker.trace" | tr "\n" " ")
[ -z "$left" ] || fail "worker: directories with new entries never fsynced: $left"

# keygen: key files renamed into place in a new directory.
(trace keygen "$NM_BIN_DIR/newsmill" keygen --quiet --out "$tmp/k1/k2/server.key") >"$tmp/keygen.out"
[ -s "$tmp/k1/k2/server.key.pub" ] || fail "keygen wrote no public key"
left=$(unsynced "$tmp/keygen.trace" | tr "\n" " ")
[ -z "$left" ] || fail "keygen: directories with new entries never fsynced: $left"
echo "ok: new directories, databases and key files are fsynced into their directories"
