#!/usr/bin/env bash
# The newsroom page of `newsmill serve` in a real browser (headless
# Chromium) over the results of a real fleet (the samples): loaded at
# /#q=...&article=...&entity=..., every panel shows what the API returns —
# search hits, latest articles, the trending bars per type (names and
# counts), the article's entity mentions marked at their offsets (names and
# marked text), its section headings, the entity's timeline points,
# co-mentioned entities and articles. Then live: with the page open (driven
# over the DevTools protocol, tests/support/cdp.py), the fleet's worker
# writes new articles, and they appear in the page's latest list and
# trending chart as the API returns them, without a reload. Leaves
# screenshots in $NM_BUILD_DIR/test-artifacts/newsroom.png and
# newsroom-live.png.
set -euo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}" "${NM_BUILD_DIR:?}"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "SKIP: chromium not installed (Debian package chromium)"; exit 77; }
for p in newsmill-queue newsmill-worker newsmill-collector newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
. "$(dirname "$0")/../support/testlib.sh"
. "$(dirname "$0")/../support/fleet_results.sh"
nm=$NM_BIN_DIR/newsmill
fleet_results

port=$(free_port)
url="http://127.0.0.1:$port"
"$nm" serve --db "$var/results.db" --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -s "$url/" >/dev/null && break; sleep 0.1; done
curl -sf "$url/" -o "$tmp/page.html" && grep -q "<title>newsmill newsroom</title>" "$tmp/page.html" || fail "no page at /"

# The most mentioned place, and an article that mentions it.
entity=$(curl -sf "$url/api/entities/top?type=place&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["name"])')
article=samples/wind-farm-wire.txt
frag=$(python3 -c 'import sys, urllib.parse as u; print(u.urlencode({"q": "wind", "article": sys.argv[1], "entity": sys.argv[2]}))' "$article" "$entity")

flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --disable-dev-shm-usage --user-data-dir="$tmp/chrome")
timeout 30 "$browser" "${flags[@]}" --virtual-time-budget=5000 --dump-dom "$url/#$frag" \
    >"$tmp/dom.html" 2>"$tmp/chromium.log" || fail "chromium --dump-dom failed"

python3 - "$tmp/dom.html" "$port" "$article" "$entity" <<'PY' >"$tmp/check.out" 2>&1 || fail "the page does not show what the API says"
import json, sys, urllib.parse, urllib.request
from html.parser import HTMLParser

dom, port, article, entity = sys.argv[1:]
def api(path):
    with urllib.request.urlopen("http://127.0.0.1:%s%s" % (port, path), timeout=10) as r:
        return json.load(r)
q = lambda s: urllib.parse.quote(s, safe="")

VOID = {"br", "meta", "link", "img", "input", "hr", "rect", "line", "polyline", "circle"}
class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.kids, self.parts = tag, dict(attrs), parent, [], []
    def text(self):
        return "".join(p if isinstance(p, str) else p.text() for p in self.parts)
    def walk(self):
        yield self
        for k in self.kids:
            yield from k.walk()
    def find(self, pred):
        return [n for n in self.walk() if pred(n)]
class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#root", [], None)
    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n); self.cur.parts.append(n)
        if tag not in VOID:
            self.cur = n
    def handle_startendtag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n); self.cur.parts.append(n)
    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent
    def handle_data(self, data):
        self.cur.parts.append(data)
t = Tree()
t.feed(open(dom, encoding="utf-8").read())
byid = {n.attrs["id"]: n for n in t.root.walk() if "id" in n.attrs}
def rows(tbody):
    return [r for r in byid[tbody].kids if r.tag == "tr"]
def cells(tr):
    return [c.text().strip() for c in tr.kids if c.tag == "td"]

assert byid["conn"].text() == "live", byid["conn"].text()
# search hits
hits = api("/api/search?limit=50&q=wind")["rows"]
assert hits and [r.attrs.get("data-id") for r in rows("results")] == [h["id"] for h in hits], \
    ([r.attrs for r in rows("results")], hits)
for tr, h in zip(rows("results"), hits):
    assert cells(tr)[0] == h["title"], (cells(tr), h)
    marked = [m.text() for m in tr.find(lambda n: n.tag == "mark")]
    assert marked and all(("[%s]" % m) in h["snippet"] for m in marked), (marked, h["snippet"])
# latest
latest = api("/api/articles?limit=10")["rows"]
assert [r.attrs.get("data-id") for r in rows("latest")] == [r["id"] for r in latest]
# trending bars, per type
for typ in ("person", "organisation", "place", "group"):
    top = api("/api/entities/top?limit=10&type=" + typ)["rows"]
    bars = byid["top-" + typ].find(lambda n: n.tag == "g" and "bar" in n.attrs.get("class", ""))
    shown = [(b.attrs["data-name"], int(b.attrs["data-articles"])) for b in bars]
    assert shown == [(r["name"], r["articles"]) for r in top], (typ, shown, top)
    labels = [[x.text() for x in b.kids if x.tag == "text"] for b in bars]
    short = lambda n: n if len(n) <= 20 else n[:19] + "…"
    assert [(l[0], int(l[1])) for l in labels] == [(short(r["name"]), r["articles"]) for r in top], labels
# the article: mentions marked at their offsets
art = api("/api/articles/" + q(article))
assert art["title"] in byid["article-title"].text(), byid["article-title"].text()
marks = byid["article-body"].find(lambda n: n.tag == "mark")
want, at = [], 0
for m in sorted(art["mentions"], key=lambda m: m["start_byte"]):
    if m["start_byte"] >= at:
        want.append((m["entity"], m["text"])); at = m["end_byte"]
assert want and [(m.attrs["data-entity"], m.text()) for m in marks] == want, \
    ([(m.attrs["data-entity"], m.text()) for m in marks], want)
assert byid["article-body"].text() == art["body"], "the body text is not the article's"
heads = [li.text() for li in byid["article-sections"].kids if li.tag == "li"]
assert heads == [s["heading"] for s in art["sections"] if s["heading"]], heads
# the entity: timeline, co-mentions, articles
assert byid["entity-name"].text() == entity
tl = api("/api/entities/%s/timeline?bucket=1d" % q(entity))["rows"]
line = byid["timeline-line"]
assert line.attrs["data-mentions"] == " ".join(str(r["mentions"]) for r in tl), (line.attrs, tl)
assert len(line.attrs["points"].split()) == len(tl)
co = api("/api/entities/%s/cooccurring?limit=15" % q(entity))["rows"]
assert [cells(r) for r in rows("cooccurring")] == [[r["name"], r["type"], str(r["articles"])] for r in co]
ea = api("/api/entities/%s/articles?limit=20" % q(entity))["rows"]
assert [r.attrs.get("data-id") for r in rows("entity-articles")] == [r["id"] for r in ea]
print("page matches the API: %d hits, %d latest, 4 bar charts, %d mentions marked, %d timeline points,"
      " %d co-mentioned, %d entity articles" % (len(hits), len(latest), len(marks), len(tl), len(co), len(ea)))
PY
cat "$tmp/check.out"

# A malformed query shows the API's reason, not a broken page.
timeout 30 "$browser" "${flags[@]}" --virtual-time-budget=3000 --dump-dom "$url/#q=%22unbalanced" \
    >"$tmp/dom-bad.html" 2>>"$tmp/chromium.log" || fail "chromium --dump-dom failed"
grep -q 'class="error">not a valid full-text query: unterminated string' "$tmp/dom-bad.html" ||
    fail "a malformed query does not show the reason"

mkdir -p "$NM_BUILD_DIR/test-artifacts"
timeout 30 "$browser" "${flags[@]}" --virtual-time-budget=4000 --window-size=1400,1300 \
    --screenshot="$tmp/newsroom.png" "$url/#$frag" >>"$tmp/chromium.log" 2>&1 || fail "chromium --screenshot failed"
[ -s "$tmp/newsroom.png" ] || fail "no screenshot"
cp "$tmp/newsroom.png" "$NM_BUILD_DIR/test-artifacts/newsroom.png"
echo "screenshot: $NM_BUILD_DIR/test-artifacts/newsroom.png"

# Live: the page stays open while the fleet's worker writes new articles;
# they appear in it (latest list, trending places) without a reload.
python3 - "$NM_SOURCE_DIR/tests/support" "$browser" "$url" "$tmp" "$nm" "$queue" \
    "$NM_BUILD_DIR/test-artifacts/newsroom-live.png" <<'PY' >"$tmp/live.out" 2>&1 || fail "new articles do not appear in the open page"
import json, subprocess, sys, time, urllib.request
support, browser, url, tmp, nm, queue, shot = sys.argv[1:]
sys.path.insert(0, support)
from cdp import Page

def api(path):
    with urllib.request.urlopen(url + path, timeout=10) as r:
        return json.load(r)
LATEST = "[...document.querySelectorAll('#latest tr[data-id]')].map(r => r.dataset.id)"
BARS = ("[...document.querySelectorAll('#top-place g.bar')]"
        ".map(b => [b.dataset.name, Number(b.dataset.articles)])")

with Page(browser, url + "/", tmp + "/chrome-live", tmp + "/chromium-live.log") as page:
    page.wait_for("document.getElementById('conn').textContent === 'live'", what="the page to connect")
    before = [r["id"] for r in api("/api/articles?limit=10")["rows"]]
    page.wait_for("JSON.stringify(%s) === %r" % (LATEST, json.dumps(before, separators=(",", ":"))),
                  what="the latest list to show the API's")
    page.evaluate("window.nmLiveMark = 'set before the articles were written'")
    n_new = 12
    lines = "".join(json.dumps({
        "id": "live/%02d" % i, "source": "live", "content_type": "text",
        "body": "Zanzibar ferry %d returns\n\nThe harbour of Zanzibar reopened after the storm, and"
                " the ferry to Zanzibar sailed again on Monday morning." % i}) + "\n"
        for i in range(n_new))
    subprocess.run([nm, "submit", "--quiet", "--queue", queue, "-"], input=lines, text=True, check=True)
    deadline = time.time() + 60
    while time.time() < deadline and sum(r["id"].startswith("live/") for r in
                                         api("/api/articles?limit=1000")["rows"]) < n_new:
        time.sleep(0.2)
    after = [r["id"] for r in api("/api/articles?limit=10")["rows"]]
    assert all(i.startswith("live/") for i in after), after
    # the page polls every few seconds: the new list, with no reload
    shown = page.wait_for("(ids => ids.every(i => i.startsWith('live/')) && ids)(%s)" % LATEST,
                          timeout=30, what="the new articles in the page")
    assert shown == after, (shown, after)
    assert page.evaluate("window.nmLiveMark") == "set before the articles were written", "the page reloaded"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    # trending: Zanzibar, in all 12, leads the places once the chart refreshes
    bars = page.wait_for("(b => b.length && b[0][0] === 'Zanzibar' && b)(%s)" % BARS, timeout=30,
                         what="Zanzibar in the trending places")
    top = api("/api/entities/top?limit=10&type=place")["rows"]
    assert bars == [[r["name"], r["articles"]] for r in top], (bars, top)
    assert bars[0][1] == n_new, bars
    page.screenshot(shot)
print("live: %d new articles shown without a reload (latest list and trending places match the API)" % n_new)
PY
cat "$tmp/live.out"
fleet_stop
