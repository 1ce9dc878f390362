#!/usr/bin/env bash
# newsmill serve over a results database written by a real fleet (queue,
# worker) from the samples: every API answer equals what `newsmill query
# --json` answers to the same question (one database and --dir), pages
# concatenate to the whole list, a table of bad requests each gets a JSON
# error with the right status while the server keeps serving, the API keeps
# answering (no error, no stale lock) while workers write, newly committed
# articles show up without a restart, and the security rules (loopback
# unless --token-file, Bearer token checked) hold.
set -euo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}"
for p in newsmill-queue newsmill-worker newsmill-collector newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
. "$(dirname "$0")/../support/testlib.sh"
. "$(dirname "$0")/../support/fleet_results.sh"
nm=$NM_BIN_DIR/newsmill
fleet_results

# Two databases for --dir: the results and a copy (every row twice, with "db").
mkdir "$tmp/dir"
sqlite3 "$var/results.db" ".backup '$tmp/dir/results-a.db'"
sqlite3 "$var/results.db" ".backup '$tmp/dir/results-b.db'"

port=$(free_port) dport=$(free_port)
"$nm" serve --db "$var/results.db" --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
pids+=($!)
"$nm" serve --dir "$tmp/dir" --listen "127.0.0.1:$dport" >"$tmp/serve-dir.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    curl -s "http://127.0.0.1:$port/api/articles" >/dev/null && curl -s "http://127.0.0.1:$dport/api/articles" >/dev/null && break
    sleep 0.1
done

python3 - "$nm" "$var/results.db" "$tmp/dir" "$port" "$dport" "$queue" <<'PY' >"$tmp/api.out" 2>&1 || fail "API checks"
import json, subprocess, sys, threading, time, urllib.error, urllib.parse, urllib.request

nm, db, dirpath, port, dport, queue = sys.argv[1:]

def get(path, p=port, headers=None):
    req = urllib.request.Request("http://127.0.0.1:%s%s" % (p, path), headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()

def api(path, p=port):
    status, ctype, body = get(path, p)
    assert status == 200, (path, status, body[:300])
    assert ctype == "application/json", (path, ctype)
    return json.loads(body)

def cli(*args, where=("--db", db)):
    out = subprocess.run([nm, "query", *where, "--json", *args], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)

def drop_score(rows):  # bm25 differs in the last bits between processes? no: compare all
    return rows

q = urllib.parse.quote
# 1. Same questions, same answers: the API's rows are the CLI's rows.
for word in ("Ankara", "wind", '"wind farm"', "train*", "Aberdeen OR Lagos"):
    a = api("/api/search?q=%s&limit=50" % q(word))
    assert a["limit"] == 50 and a["offset"] == 0 and list(a) == ["limit", "offset", "rows"], a
    assert a["rows"] == cli("--limit", "50", "search", word), word
    assert a["rows"], "no hit for %r" % word
    assert "[" in a["rows"][0]["snippet"], a["rows"]  # the match marked
    d = api("/api/search?q=%s&limit=50" % q(word), dport)
    assert d["rows"] == cli("--limit", "50", "search", word, where=("--dir", dirpath)), word
    assert len(d["rows"]) == 2 * len(a["rows"]) and all("db" in r for r in d["rows"]), d
top = {}
for t, word in (("person", "people"), ("organisation", "orgs"), ("place", "places"), ("group", "groups")):
    a = api("/api/entities/top?type=%s&limit=100" % t)
    assert a["rows"] == cli("--limit", "100", "top", word), t
    d = api("/api/entities/top?type=%s&limit=100" % t, dport)
    assert [(r["name"], r["articles"], r["mentions"]) for r in d["rows"]] == \
           [(r["name"], 2 * r["articles"], 2 * r["mentions"]) for r in a["rows"]], t
    top[t] = a["rows"]
assert top["place"], top
place = top["place"][0]["name"]
a = api("/api/entities/%s/articles?limit=100" % q(place, safe=""))
assert a["rows"] == cli("--limit", "100", "entity", place), place
assert len(a["rows"]) >= top["place"][0]["articles"], (a, top["place"][0])
ids = [r["id"] for r in api("/api/articles?limit=1000")["rows"]]
assert len(ids) == len(set(ids)) and len(ids) >= 10, ids
for i in ids:
    art = api("/api/articles/" + q(i, safe=""))
    assert art == cli("article", i), i
    assert art["id"] == i and "entities" in art and "mentions" in art and "sections" in art
    assert api("/api/dups/" + q(i, safe="")
               )["rows"] == cli("dups", i), i
assert any(api("/api/dups/" + q(i, safe=""))["rows"] for i in ids), "no duplicates among the samples"
assert all("/" in i for i in ids if i.startswith("samples")), ids  # ids with '/' route fine

# timeline and co-mentions, checked against the article JSON
tl = api("/api/entities/%s/timeline?bucket=1d" % q(place, safe=""))
assert tl["rows"] and sum(r["articles"] for r in tl["rows"]) == top["place"][0]["articles"], tl
assert sum(r["mentions"] for r in tl["rows"]) == top["place"][0]["mentions"], tl
assert all(r["bucket_unix_ms"] % 86400000 == 0 for r in tl["rows"]), tl
co = api("/api/entities/%s/cooccurring?limit=1000" % q(place, safe=""))["rows"]
expect = {}
for i in ids:
    art = api("/api/articles/" + q(i, safe=""))
    names = {(e["name"], e["type"]) for e in art["entities"]}
    if any(n == place for n, _ in names):
        for n, t in names:
            if n != place:
                expect[(n, t)] = expect.get((n, t), 0) + 1
assert {(r["name"], r["type"]): r["articles"] for r in co} == expect, (co, expect)
assert [r["articles"] for r in co] == sorted((r["articles"] for r in co), reverse=True), co

# 2. Pages: offset pages concatenate to the whole list (one db and --dir).
for p in (port, dport):
    whole = api("/api/search?q=the&limit=1000", p)["rows"]
    assert len(whole) >= 4, whole
    pages = []
    for off in range(0, len(whole), 3):
        pages += api("/api/search?q=the&limit=3&offset=%d" % off, p)["rows"]
    assert [r["id"] for r in pages] == [r["id"] for r in whole], (pages, whole)
    assert api("/api/search?q=the&offset=%d" % len(whole), p)["rows"] == []
    latest = api("/api/articles?limit=1000", p)["rows"]
    assert [r["ingested_unix_ms"] for r in latest] == sorted((r["ingested_unix_ms"] for r in latest), reverse=True)

# 3. Bad input: JSON error, right status, server keeps serving.
bad = [
    ("/api/search?q=%22unbalanced", 400, "unterminated"),
    ("/api/search?q=wind%20AND", 400, "syntax error"),
    ("/api/search?q=(((", 400, "syntax error"),
    ("/api/search?q=nosuchcolumn:wind", 400, "no such column"),
    ("/api/search?q=NEAR(", 400, "syntax error"),
    ("/api/search?q=" + "a" * 10240, 400, "longer than 1024"),
    ("/api/search?q=%ff%fe%fd", 400, "invalid UTF-8"),
    ("/api/search?q=caf%c3", 400, "invalid UTF-8"),
    ("/api/search", 400, "q: empty"),
    ("/api/search?q=", 400, "q: empty"),
    ("/api/search?q=wind&limit=-1", 400, "limit"),
    ("/api/search?q=wind&limit=0", 400, "limit"),
    ("/api/search?q=wind&limit=1001", 400, "limit"),
    ("/api/search?q=wind&limit=99999999999999999999999", 400, "limit"),
    ("/api/search?q=wind&limit=12abc", 400, "limit"),
    ("/api/search?q=wind&offset=-5", 400, "offset"),
    ("/api/search?q=wind&since=yesterday", 400, "since"),
    ("/api/search?q=wind&until=-3", 400, "until"),
    ("/api/entities/top", 400, "type"),
    ("/api/entities/top?type=aliens", 400, "type"),
    ("/api/entities/top?type=person&since=soon", 400, "since"),
    ("/api/entities/x/timeline?bucket=0", 400, "bucket"),
    ("/api/entities/x/timeline?bucket=fast", 400, "bucket"),
    ("/api/entities/x/timeline?bucket=1000d", 400, "bucket"),
    ("/api/entities/x/cooccurring?limit=5000", 400, "limit"),
    ("/api/entities/%ff/articles", 400, "invalid UTF-8"),
    ("/api/entities/" + "b" * 2000 + "/articles", 400, "longer than 1024"),
    ("/api/entities/x/nonsense", 404, "no such route"),
    ("/api/dups/x?max_distance=65", 400, "max_distance"),
    ("/api/dups/x?min_similarity=2", 400, "min_similarity"),
    ("/api/dups/no-such-article", 404, "no article"),
    ("/api/articles/..%2F..%2Fetc%2Fpasswd", 404, "no article"),
    ("/api/articles/../../etc/passwd", 404, None),
    ("/api/articles/no-such-article", 404, "no article"),
    ("/api/articles/%00", 404, None),
    ("/api/nothing", 404, "no such route"),
    ("/etc/passwd", 404, "no such route"),
]
for path, status, detail in bad:
    s, ctype, body = get(path)
    assert s == status, (path, s, body[:200])
    assert ctype == "application/json", (path, ctype)
    e = json.loads(body)
    assert list(e) == ["error", "detail"], (path, e)
    assert detail is None or detail in e["detail"], (path, e)
    assert api("/api/search?q=wind")["rows"], "server stopped answering after " + path
req = urllib.request.Request("http://127.0.0.1:%s/api/search?q=wind" % port, method="POST", data=b"x")
try:
    urllib.request.urlopen(req, timeout=5); raise AssertionError("POST answered")
except urllib.error.HTTPError as e:
    assert e.code == 405 and json.loads(e.read())["error"] == "method_not_allowed"
print("bad input: %d requests answered with JSON errors" % (len(bad) + 1))

# 4. While a worker writes: the API answers every request, and new articles
# show up (in /api/articles and search) without a restart.
n0 = len(api("/api/articles?limit=1000")["rows"])
lines = "".join(json.dumps({"id": "live-%03d" % i, "source": "live", "content_type": "text",
                            "body": "Zanzibar ferry %d. The harbour of Zanzibar reopened after the storm." % i}) + "\n"
                for i in range(150))
errors, answered, done = [], [0], threading.Event()
def hammer():
    while not done.is_set():
        for path in ("/api/search?q=Zanzibar&limit=100", "/api/articles?limit=5",
                     "/api/entities/top?type=place"):
            s, _, body = get(path)
            if s != 200:
                errors.append((path, s, body[:200]))
            answered[0] += 1
t = threading.Thread(target=hammer); t.start()
subprocess.run([nm, "submit", "--quiet", "--queue", queue, "-"], input=lines, text=True, check=True)
deadline = time.time() + 60
while time.time() < deadline and len(api("/api/search?q=Zanzibar&limit=1000")["rows"]) < 150:
    time.sleep(0.2)
done.set(); t.join()
assert not errors, errors[:5]
assert len(api("/api/search?q=Zanzibar&limit=1000")["rows"]) == 150
assert len(api("/api/articles?limit=1000")["rows"]) == n0 + 150
assert api("/api/articles?limit=1")["rows"][0]["id"].startswith("live-")
print("during ingestion: %d requests, no error; 150 new articles seen without a restart" % answered[0])
PY
cat "$tmp/api.out"

# 5. Security: loopback only unless a token file; the token is checked.
out=$("$nm" serve --db "$var/results.db" --listen "0.0.0.0:$(free_port)" 2>&1) && fail "served on 0.0.0.0 without a token"
grep -q "token-file" <<<"$out" || fail "no reason given: $out"
echo "short" >"$tmp/short.token"
"$nm" serve --db "$var/results.db" --listen "127.0.0.1:0" --token-file "$tmp/short.token" >/dev/null 2>&1 &&
    fail "a 5-byte token was accepted"
echo "s3cret-token-for-the-test-0123456789" >"$tmp/token"
tport=$(free_port)
"$nm" serve --db "$var/results.db" --listen "0.0.0.0:$tport" --token-file "$tmp/token" >"$tmp/serve-token.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -s "http://127.0.0.1:$tport/" >/dev/null && break; sleep 0.1; done
code() { curl -s -o "$tmp/body.out" -w '%{http_code}' "$@"; }
[ "$(code "http://127.0.0.1:$tport/api/search?q=wind")" = 401 ] || fail "no token: not 401"
grep -q '"error":"unauthorized"' "$tmp/body.out" || fail "401 without a JSON error"
[ "$(code -H 'Authorization: Bearer wrong' "http://127.0.0.1:$tport/api/search?q=wind")" = 401 ] || fail "wrong token: not 401"
[ "$(code -H 'Authorization: Bearer s3cret-token-for-the-test-012345678' "http://127.0.0.1:$tport/")" = 401 ] || fail "prefix of the token: not 401"
[ "$(code -H 'Authorization: Bearer s3cret-token-for-the-test-0123456789' "http://127.0.0.1:$tport/api/search?q=wind")" = 200 ] ||
    fail "right token: not 200"
# the collector's HTTP port takes the same option
cport=$(free_port)
"$NM_BIN_DIR/newsmill-collector" --stats-bind "tcp://127.0.0.1:$(free_port)" --query-bind "tcp://127.0.0.1:$(free_port)" \
    --http "127.0.0.1:$cport" --http-token-file "$tmp/token" >"$tmp/collector.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -s "http://127.0.0.1:$cport/" >/dev/null && break; sleep 0.1; done
[ "$(code "http://127.0.0.1:$cport/api/stats")" = 401 ] || fail "collector without token: not 401"
[ "$(code -H 'Authorization: Bearer s3cret-token-for-the-test-0123456789' "http://127.0.0.1:$cport/api/stats")" = 200 ] ||
    fail "collector with the token: not 200"

# 6. A database that does not exist: a clear message, exit 1.
out=$("$nm" serve --db "$tmp/none.db" --listen "127.0.0.1:0" 2>&1) && fail "served a missing database"
grep -q "no results database at $tmp/none.db" <<<"$out" || fail "unclear: $out"
out=$("$nm" serve --dir "$tmp/empty-dir-that-is-not-there" --listen "127.0.0.1:0" 2>&1) && fail "served an empty dir"
grep -q "no results\*.db" <<<"$out" || fail "unclear: $out"
echo "security and missing databases: ok"
