#!/usr/bin/env bash
# The plain sqlite3 shell on a results database a real worker wrote (the
# samples through a fleet), with the extension newsmill_results.so of the
# build tree loaded (`-cmd '.load PATH'`, docs/queries.md): PRAGMA
# integrity_check answers ok, VACUUM runs (and the file checks ok after),
# body, summary, the views sentences/mentions/keyphrases, snippet() and the
# near-duplicate query read what `newsmill query --json article` reads.
# Without the extension the stored tables still check and vacuum (the
# computed columns are in views), but the views and snippet() fail with a
# clean error, not a crash: the reason this extension exists.
set -euo pipefail
: "${NM_BIN_DIR:?}" "${NM_BUILD_DIR:?}" "${NM_SOURCE_DIR:?}"
for p in newsmill-queue newsmill-worker newsmill-collector newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
ext=$NM_BUILD_DIR/lib/newsmill_results.so
[ -f "$ext" ] || { echo "FAIL: $ext is not built"; exit 1; }
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 missing (scripts/deps.txt)"; exit 1; }
. "$(dirname "$0")/../support/testlib.sh"
. "$(dirname "$0")/../support/fleet_results.sh"
nm=$NM_BIN_DIR/newsmill
fleet_results
fleet_stop
db=$tmp/results.db
sqlite3 "$var/results.db" ".backup '$db'" || fail "sqlite3 .backup"
# A sanitizer build's extension (NM_SANITIZE) needs the ASan runtime loaded
# first into the uninstrumented shell (the shell's own leaks are not ours).
asan=$(ldd "$ext" | awk '/libasan/ {print $3}')
shell() {
    if [ -n "$asan" ]; then
        LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0 sqlite3 "$@"
    else
        sqlite3 "$@"
    fi
}
# The path without .so, as the docs give it: the shell adds the suffix.
with() { shell -bail -cmd ".load ${ext%.so}" "$db" "$@"; }
snippet="SELECT snippet(articles_fts, -1, '[', ']', '...', 8) FROM articles_fts WHERE articles_fts MATCH 'Aberdeen'"

[ "$(sqlite3 "$db" "SELECT count(*) FROM article_rows WHERE id LIKE '%wind-farm-wire%'")" = 1 ] ||
    fail "no wind-farm-wire article to read"
# Without the extension: the tables check, the views and snippet() fail
# with an error (exit status 1, not a signal).
plain() { sqlite3 -bail "$db" "$@" >"$tmp/plain.out" 2>&1; }
plain 'PRAGMA integrity_check' && [ "$(cat "$tmp/plain.out")" = ok ] ||
    fail "integrity_check without the extension: $(cat "$tmp/plain.out")"
st=0; plain "SELECT body FROM articles WHERE id LIKE '%wind-farm-wire%'" || st=$?
[ "$st" = 1 ] && grep -q 'no such function: nm_unzstd' "$tmp/plain.out" ||
    fail "body without the extension: status $st: $(cat "$tmp/plain.out")"
st=0; plain "$snippet" || st=$?
[ "$st" = 1 ] || fail "snippet() without the extension: status $st: $(cat "$tmp/plain.out")"

# With it.
out=$(with 'PRAGMA integrity_check' 2>&1) || fail "integrity_check with the extension: $out"
[ "$out" = ok ] || fail "integrity_check with the extension: $out"
out=$(with 'VACUUM' 'PRAGMA integrity_check' 2>&1) || fail "VACUUM with the extension: $out"
[ "$out" = ok ] || fail "integrity_check after VACUUM: $out"
out=$(with "$snippet" 2>&1) || fail "snippet(): $out"
grep -q '\[Aberdeen\]' <<<"$out" || fail "snippet() does not mark Aberdeen: $out"
out=$(with "SELECT count(*) FROM articles a JOIN articles d ON d.article != a.article
             WHERE hamming(a.simhash, d.simhash) <= 3 AND minhash_similarity(a.minhash, d.minhash) > 0" 2>&1) ||
    fail "hamming()/minhash_similarity(): $out"

# Every article's text and JSON columns as newsmill query reads them.
with -json "SELECT id, body, summary, sentences_json, keyphrases_json,
                   (SELECT count(*) FROM sentences s WHERE s.article = a.article) AS n_sentences,
                   (SELECT count(*) FROM mentions m WHERE m.article = a.article) AS n_mentions,
                   (SELECT json_group_array(phrase) FROM keyphrases k WHERE k.article = a.article) AS phrases
            FROM articles a ORDER BY article" >"$tmp/shell.json" 2>"$tmp/shell.log" || fail "reading the columns"
python3 - "$nm" "$db" "$tmp/shell.json" <<'PY' >"$tmp/check.out" 2>&1 || fail "the shell's columns differ from newsmill query's"
import json, subprocess, sys
nm, db, path = sys.argv[1:]
rows = json.load(open(path, encoding="utf-8"))
assert len(rows) > 5, len(rows)
for r in rows:
    q = json.loads(subprocess.run([nm, "query", "--db", db, "--json", "article", r["id"]],
                                  capture_output=True, text=True, check=True).stdout)
    assert r["body"] and r["body"] == q["body"], r["id"]
    assert r["summary"] == q["summary"], (r["id"], r["summary"], q["summary"])
    assert r["n_sentences"] == len(json.loads(r["sentences_json"])) == len(q["sentences"]) > 0, r["id"]
    assert r["n_mentions"] == len(q["mentions"]), r["id"]
    phrases = json.loads(r["phrases"])
    assert len(phrases) == len(json.loads(r["keyphrases_json"])), r["id"]
    assert sorted(phrases) == sorted(k["phrase"] for k in q["keyphrases"]), r["id"]
print("ok", len(rows))
PY
echo "ok: integrity_check, VACUUM, body/summary/views/snippet()/hamming() through the extension; views and snippet() a clean error without"
