#!/usr/bin/env bash
# The worker refuses to start, with a message naming the file, when the NER
# model in its data directory is missing, truncated or corrupt; with the
# intact model it starts (and drains on SIGTERM). The optional language
# models (ner-model-de.bin ...): absent ones are logged and the worker runs;
# a corrupt one or one of another language is refused.
set -euo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}"
worker="$NM_BIN_DIR/newsmill-worker"
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done; exit 1; }
. "$NM_SOURCE_DIR/tests/support/free_port.sh"
port=$(free_port)

# must_refuse NAME PATTERN [FILE]: the worker exits 1 within 10 s, log names
# FILE (default ner-model.bin) and matches PATTERN
must_refuse() {
    local name=$1 pattern=$2 file=${3:-ner-model.bin} rc=0
    timeout 10 "$worker" --data-dir "$tmp/data" --queue "tcp://127.0.0.1:$port" --stats "" \
        --db "$tmp/$name.db" >"$tmp/$name.log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "$name: worker exited $rc, want 1 (refusing to start)"
    grep -q "$file" "$tmp/$name.log" || fail "$name: the message does not name $file"
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

# runs NAME: the worker starts, runs until SIGTERM, drains and exits 0
runs() {
    local name=$1 rc=0
    "$worker" --data-dir "$tmp/data" --queue "tcp://127.0.0.1:$port" --stats "" \
        --db "$tmp/$name.db" >"$tmp/$name.log" 2>&1 &
    pid=$!
    sleep 1
    kill -0 "$pid" 2>/dev/null || fail "$name: worker did not stay up"
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    pid=
    [ "$rc" = 0 ] || fail "$name: worker exited $rc after SIGTERM, want 0"
}

# intact: the worker starts with every model and says so
cp "$good" "$tmp/data/ner-model.bin"
runs ok
grep -q "entity models (model): en de fr nl pt" "$tmp/ok.log" || fail "ok: no log line naming the five models"

# optional models absent: it starts, and its log says which languages get no entities
mkdir "$tmp/opt"
mv "$tmp/data/ner-model-nl.bin" "$tmp/data/ner-model-pt.bin" "$tmp/opt/"
runs absent
grep -q "entity models (model): en de fr; absent (no entities in those languages): nl pt" \
    "$tmp/absent.log" || fail "absent: the log does not say nl and pt have no model"

# an optional model that is corrupt, or of another language: refused
cp "$tmp/data/ner-model-de.bin" "$tmp/opt/de.bin"
head -c 100000 "$tmp/opt/de.bin" >"$tmp/data/ner-model-de.bin"
must_refuse truncated-de "checksum|truncated|size" ner-model-de.bin
cp "$tmp/data/ner-model-fr.bin" "$tmp/data/ner-model-de.bin"
must_refuse wrong-language "a model for language fr, not de" ner-model-de.bin
echo "ok: missing, truncated, corrupt and garbage models refused; intact model runs;"\
    "absent optional models logged; corrupt or wrong-language optional models refused"
