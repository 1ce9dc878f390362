#!/usr/bin/env bash
# The dashboard in a real browser (headless Chromium): the page loads from
# the collector alone, polls /api/stats, and the numbers it renders are the
# numbers /api/stats reports. Also leaves a screenshot in
# $NM_BUILD_DIR/test-artifacts/dashboard.png for people to look at.
set -euo pipefail
: "${NM_BIN_DIR:?}" "${NM_BUILD_DIR:?}"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "SKIP: chromium not installed (Debian package chromium)"; exit 77; }
. "$(dirname "$0")/../support/testlib.sh"

stats=$(free_port); query=$(free_port); http=$(free_port)
url="http://127.0.0.1:$http"
"$NM_BIN_DIR/newsmill-collector" --stats-bind "tcp://127.0.0.1:$stats" --query-bind "tcp://127.0.0.1:$query" \
    --http "127.0.0.1:$http" --stale-after 30s --gone-after 60s >"$tmp/collector.log" 2>&1 &
pids+=($!)
"$NM_BIN_DIR/statsgen" --stats "tcp://127.0.0.1:$stats" --workers 2 --seconds 3 --interval 200ms \
    --backlog 100000 >"$tmp/statsgen.log" 2>&1
# statsgen has finished: the numbers hold still from here on
sleep 0.6
curl -sf "$url/api/stats" >"$tmp/stats.json" || fail "no /api/stats"
python3 - "$tmp/stats.json" <<'PY' || fail "/api/stats has no fleet"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["totals"]["done"] > 0 and len(s["processes"]) == 4, s["totals"]
PY

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --disable-dev-shm-usage --user-data-dir="$tmp/chrome")
timeout 20 "$browser" "${flags[@]}" --virtual-time-budget=5000 --dump-dom "$url/" \
    >"$tmp/dom.html" 2>"$tmp/chromium.log" || fail "chromium --dump-dom failed"
curl -sf "$url/api/stats" >"$tmp/stats2.json" || fail "no /api/stats"

python3 - "$tmp/dom.html" "$tmp/stats2.json" <<'PY' || fail "the page does not show what /api/stats says"
import json, sys
from html.parser import HTMLParser

class ById(HTMLParser):
    """Text of every element with an id, and the rows of each table body."""
    def __init__(self):
        super().__init__()
        self.stack, self.text, self.rows, self.cur_body = [], {}, {}, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("br", "meta", "link", "img", "input", "line", "polyline", "polygon"):
            if "id" in a:
                self.text.setdefault(a["id"], "")
            if tag == "polyline" and a.get("id"):
                self.text[a["id"]] = a.get("points", "")
            return
        self.stack.append((tag, a.get("id")))
        if a.get("id"):
            self.text.setdefault(a["id"], "")
        if tag == "tbody" and a.get("id"):
            self.cur_body = a["id"]
            self.rows[self.cur_body] = []
        if tag == "tr" and self.cur_body:
            self.rows[self.cur_body].append([])
        if tag == "td" and self.cur_body:
            self.rows[self.cur_body][-1].append("")
    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break
        if tag == "tbody":
            self.cur_body = None
    def handle_data(self, data):
        for _, i in self.stack:
            if i:
                self.text[i] += data
        if self.cur_body and self.rows[self.cur_body] and self.rows[self.cur_body][-1] is not None \
                and any(t == "td" for t, _ in self.stack):
            self.rows[self.cur_body][-1][-1] += data

p = ById()
p.feed(open(sys.argv[1], encoding="utf-8").read())
s = json.load(open(sys.argv[2]))
t = s["totals"]
def num(i):
    return float(p.text[i].replace(",", "").strip())
checks = {"accepted": t["accepted"], "done": t["done"], "failed": t["failed"], "dead": t["dead"],
          "backlog": t["backlog"], "in-flight": t["in_flight"]}
bad = [(k, p.text.get(k), v) for k, v in checks.items() if k not in p.text or num(k) != round(v)]
assert not bad, "page vs /api/stats: %r" % bad
procs = p.rows["processes"]
assert len(procs) == len(s["processes"]), (procs, s["processes"])
assert sorted(r[1] for r in procs) == sorted(x["instance"] for x in s["processes"]), procs
for row in procs:
    x = [q for q in s["processes"] if q["instance"] == row[1]][0]
    assert row[0] == x["role"] and row[5] == x["status"] and row[3] == str(x["pid"]), (row, x)
    assert float(row[8].replace(",", "")) == round(x["articles_total"]), (row, x)
dead = p.rows["dead-letters"]
assert [r[0] for r in dead] == [d["id"] for d in s["recent_dead"]], dead
assert dead[0][2] == s["recent_dead"][0]["reason"], dead
errs = [r for r in p.rows["errors"] if len(r) == 3]  # the "none" row has one cell
assert s["errors"], "statsgen always reports some failures"
assert sorted((r[0], float(r[2].replace(",", ""))) for r in errs) == \
       sorted((e["reason"], e["count"]) for e in s["errors"]), (errs, s["errors"])
lat = p.rows["latency"]
names = sorted(k for k in s["latency"] if k.endswith("_seconds"))
assert len(lat) == len(names), (lat, names)
# the history grows by one point a second: the page drew it a moment earlier
points = len(p.text.get("chart-line", "").split())
assert points >= 2 and abs(points - len(s["throughput"])) <= 5, ("chart points", points, len(s["throughput"]))
assert "live" in p.text["conn"], p.text["conn"]
print("page matches /api/stats: done=%d backlog=%d processes=%d dead=%d latencies=%d chart points=%d"
      % (t["done"], t["backlog"], len(procs), len(dead), len(lat), len(s["throughput"])))
PY

mkdir -p "$NM_BUILD_DIR/test-artifacts"
timeout 20 "$browser" "${flags[@]}" --virtual-time-budget=3000 --window-size=1280,1100 \
    --screenshot="$tmp/dashboard.png" "$url/" >>"$tmp/chromium.log" 2>&1 || fail "chromium --screenshot failed"
[ -s "$tmp/dashboard.png" ] || fail "no screenshot"
cp "$tmp/dashboard.png" "$NM_BUILD_DIR/test-artifacts/dashboard.png"
echo "screenshot: $NM_BUILD_DIR/test-artifacts/dashboard.png"
