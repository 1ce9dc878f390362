#!/usr/bin/env bash
# The worker refuses to start, with a message naming the file, when the NER
# model in its data directory is missing, truncated or corrupt; with the
# intact model it starts (and drains on SIGTERM).
set -euo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}"
worker="$NM_BIN_DIR/newsmill-worker"
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# must_refuse NAME PATTERN: the worker exits 1 within 10 s, log matches PATTERN
must_refuse() {
    local name=$1 pattern=$2 rc=0
    timeout 10 "$worker" --data-dir "$tmp/data" --queue "tcp://127.0.0.1:$port" --stats "" \
        --db "$tmp/$name.db" >"$tmp/$name.log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "$name: worker exited $rc, want 1 (refusing to start)"
    grep -q "ner-model.bin" "$tmp/$name.log" || fail "$name: the message does not name ner-model.bin"
    grep -Eq "$pattern" "$tmp/$name.log" || fail "$name: the message does not say '$pattern'"
}

cp -r "$NM_SOURCE_DIR/data" "$tmp/data"
good="$tmp/good-model.bin"
mv "$tmp/data/ner-model.bin" "$good"
must_refuse missing "No such file"

head -c 100000 "$good" >"$tmp/data/ner-model.bin"
must_refuse truncated "checksum|truncated|size"

cp "$good" "$tmp/data/ner-model.bin"
printf '\x55' | dd of="$tmp/data/ner-model.bin" bs=1 seek=50000 conv=notrunc status=none
must_refuse corrupt "checksum"

printf 'not a model at all' >"$tmp/data/ner-model.bin"
must_refuse garbage "magic"

# intact: the worker starts, runs until SIGTERM, drains and exits 0
cp "$good" "$tmp/data/ner-model.bin"
"$worker" --data-dir "$tmp/data" --queue "tcp://127.0.0.1:$port" --stats "" \
    --db "$tmp/ok.db" >"$tmp/ok.log" 2>&1 &
pid=$!
sleep 1
kill -0 "$pid" 2>/dev/null || fail "worker with an intact model did not stay up"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "worker with an intact model exited $rc after SIGTERM, want 0"
echo "ok: missing, truncated, corrupt and garbage models refused; intact model runs"
