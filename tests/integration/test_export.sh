#!/usr/bin/env bash
# newsmill export over the results of a real fleet (the samples): JSON lines
# whose records are the same objects as `newsmill query --json article ID`,
# CSV with the article columns and the entities, both loaded by pandas
# (read_json(lines=True), read_csv); --query and --since select; --dir reads
# every database; memory stays flat when the database grows (peak RSS of a
# 50x larger export within 10% + 2 MB); bad flags exit 2 with a reason.
set -euo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}"
for p in newsmill-queue newsmill-worker newsmill-collector newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
py=/usr/bin/python3  # Debian's, with python3-pandas
$py -c 'import pandas' 2>/dev/null || { echo "SKIP: python3-pandas missing (scripts/deps.txt)"; exit 77; }
[ -x /usr/bin/time ] || { echo "SKIP: /usr/bin/time missing (Debian package time)"; exit 77; }
. "$(dirname "$0")/../support/testlib.sh"
. "$(dirname "$0")/../support/fleet_results.sh"
nm=$NM_BIN_DIR/newsmill
fleet_results
db=$var/results.db

"$nm" export --db "$db" >"$tmp/all.jsonl" 2>"$tmp/export.log" || fail "export jsonl"
"$nm" export --db "$db" --format csv >"$tmp/all.csv" 2>>"$tmp/export.log" || fail "export csv"
"$nm" export --db "$db" --query wind >"$tmp/wind.jsonl" 2>>"$tmp/export.log" || fail "export --query"
"$nm" export --db "$db" --since 1h >"$tmp/recent.jsonl" 2>>"$tmp/export.log" || fail "export --since 1h"
"$nm" export --db "$db" --since 2000-01-01T00:00:00Z --query 'nosuchwordanywhere' >"$tmp/none.jsonl" 2>>"$tmp/export.log" ||
    fail "export with no match"
"$nm" export --db "$db" --since "$(( $(date +%s) + 3600 ))" >"$tmp/future.jsonl" 2>>"$tmp/export.log" || fail "export --since future"
mkdir "$tmp/dir"
sqlite3 "$db" ".backup '$tmp/dir/results-a.db'"
sqlite3 "$db" ".backup '$tmp/dir/results-b.db'"
"$nm" export --dir "$tmp/dir" >"$tmp/dir.jsonl" 2>>"$tmp/export.log" || fail "export --dir"

$py - "$nm" "$db" "$tmp" <<'PY' >"$tmp/check.out" 2>&1 || fail "export checks"
import json, subprocess, sys
import pandas as pd
nm, db, tmp = sys.argv[1:]
ids = [r[0] for r in (l.split("|") for l in subprocess.run(
    ["sqlite3", db, "select id from article_rows order by article"], capture_output=True, text=True,
    check=True).stdout.split("\n")) if r[0]]
recs = [json.loads(l) for l in open(tmp + "/all.jsonl", encoding="utf-8")]
assert [r["id"] for r in recs] == ids, ([r["id"] for r in recs], ids)
for r in recs:
    want = json.loads(subprocess.run([nm, "query", "--db", db, "--json", "article", r["id"]],
                                     capture_output=True, text=True, check=True).stdout)
    assert r == want, r["id"]
df = pd.read_json(tmp + "/all.jsonl", lines=True)
assert list(df["id"]) == ids and "entities" in df.columns and "mentions" in df.columns, df.columns
csv = pd.read_csv(tmp + "/all.csv", keep_default_na=False)
assert list(csv["id"]) == ids, list(csv["id"])
assert list(csv.columns)[-1] == "entities" and "body" in csv.columns, list(csv.columns)
for r, (_, row) in zip(recs, csv.iterrows()):
    assert row["title"] == (r["title"] or "") and row["body"] == r["body"], r["id"]
    assert row["entities"] == "; ".join("%s (%s)" % (e["name"], e["type"]) for e in r["entities"]), \
        (row["entities"], r["entities"])
wind = [json.loads(l)["id"] for l in open(tmp + "/wind.jsonl")]
search = json.loads(subprocess.run([nm, "query", "--db", db, "--json", "--limit", "1000", "search", "wind"],
                                   capture_output=True, text=True, check=True).stdout)
assert wind and sorted(wind) == sorted(r["id"] for r in search), (wind, search)
assert [json.loads(l)["id"] for l in open(tmp + "/recent.jsonl")] == ids  # all ingested just now
assert open(tmp + "/none.jsonl").read() == "" and open(tmp + "/future.jsonl").read() == ""
both = [json.loads(l) for l in open(tmp + "/dir.jsonl")]
assert [r["id"] for r in both] == ids + ids and all("db" in r for r in both)
print("export: %d records as JSON lines and CSV, loaded by pandas %s; --query, --since, --dir ok"
      % (len(recs), pd.__version__))
PY
cat "$tmp/check.out"

# Constant memory: a database 50 times larger (the articles copied under new
# ids) exports with the same peak RSS.
sqlite3 "$db" ".backup '$tmp/big.db'"
$py - "$tmp/big.db" <<'PY' || fail "growing the database"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
# the stored rows are article_rows (articles is a view of them)
cols = [r[1] for r in c.execute("PRAGMA table_info(article_rows)") if r[1] not in ("article",)]
for i in range(1, 50):
    sel = ", ".join("id || '-copy%d'" % i if x == "id" else x for x in cols)
    c.execute("INSERT INTO article_rows (%s) SELECT %s FROM article_rows WHERE id NOT LIKE '%%-copy%%'" % (", ".join(cols), sel))
c.commit()
PY
# (under AddressSanitizer, freed memory waits in a quarantine: none here)
rss() {
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 \
        /usr/bin/time -f %M "$nm" export --db "$1" 2>&1 >/dev/null | tail -n 1
}
small=$(rss "$db") big=$(rss "$tmp/big.db")
n_big=$("$nm" export --db "$tmp/big.db" 2>/dev/null | wc -l)
echo "peak RSS: $small KB for $(wc -l <"$tmp/all.jsonl") articles, $big KB for $n_big"
[ "$n_big" -ge $(( 50 * $(wc -l <"$tmp/all.jsonl") )) ] || fail "the big database has $n_big articles"
[ "$big" -le $(( small + small / 10 + 2048 )) ] || fail "memory grows with the database: $small KB -> $big KB"

# Bad flags and inputs: exit 2 (or 1 for a missing database) with the reason.
bad_flags() { # REASON FLAGS...: exit 2 and REASON in the message
    local rc=0 out want=$1
    shift
    out=$("$nm" export --db "$db" "$@" 2>&1 >/dev/null) || rc=$?
    [ $rc -eq 2 ] || fail "export $*: exit $rc, want 2 ($out)"
    grep -qF -- "$want" <<<"$out" || fail "export $*: the reason is not '$want': $out"
}
bad_flags "--format must be jsonl or csv" --format xml
bad_flags "--since: neither a time" --since yesterday
bad_flags "not a valid full-text query: unterminated string" --query '"unbalanced'
bad_flags "--limit" --limit 3
rc=0; out=$("$nm" export --db "$tmp/none.db" 2>&1) || rc=$?
[ $rc -eq 1 ] && grep -q "no results database" <<<"$out" || fail "missing database: exit $rc: $out"
echo "bad flags: ok"
