#!/usr/bin/env bash
# Multi-host: three "hosts" as network namespaces made by this test, joined by
# veth links on addresses private to the test (10.211.N.0/24, inside the
# namespaces only). The queue and the collector run on host "hub"; one worker
# runs on each of hosts "h1" and "h2", each writing its own results database,
# over real TCP between namespaces. Everything submitted arrives exactly
# once across the two databases, both hosts did work, and the one collector
# sees the processes of every host.
set -euo pipefail
: "${NM_BIN_DIR:?}"
. "$(dirname "$0")/../support/netnslib.sh"
for p in newsmill-queue newsmill-worker newsmill-collector newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
command -v ip >/dev/null || { echo "SKIP: ip (iproute2) is not installed"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: the sqlite3 shell is not installed"; exit 77; }

tag="nm$$"
hub="$tag-hub" h1="$tag-h1" h2="$tag-h2"
if ! ip netns add "$hub" 2>/dev/null; then
    echo "SKIP: cannot create network namespaces here (needs root / CAP_SYS_ADMIN)"
    exit 77
fi
tmp=$(mktemp -d)
cleanup() {
    netns_remove "$hub" "$h1" "$h2"
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done; exit 1; }

ip netns add "$h1"
ip netns add "$h2"
for ns in "$hub" "$h1" "$h2"; do ip -n "$ns" link set lo up; done
# One link per worker host: hub 10.211.N.1 <-> hN 10.211.N.2
for n in 1 2; do
    ns="$tag-h$n"
    ip link add "$tag-a$n" type veth peer name "$tag-b$n"
    ip link set "$tag-a$n" netns "$hub"
    ip link set "$tag-b$n" netns "$ns"
    ip -n "$hub" addr add "10.211.$n.1/24" dev "$tag-a$n"
    ip -n "$ns" addr add "10.211.$n.2/24" dev "$tag-b$n"
    ip -n "$hub" link set "$tag-a$n" up
    ip -n "$ns" link set "$tag-b$n" up
done
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# The hub: queue and collector listen on every address of the hub.
in_ns "$hub" "$NM_BIN_DIR/newsmill-collector" --stats-bind "tcp://*:5557" --query-bind "tcp://*:5558" \
    --http off >"$tmp/collector.log" 2>&1 &
in_ns "$hub" "$NM_BIN_DIR/newsmill-queue" --front "tcp://*:5555" --back "tcp://*:5556" \
    --stats "tcp://127.0.0.1:5557" --spool "$tmp/hub/queue.db" >"$tmp/queue.log" 2>&1 &
# The worker hosts reach the hub over their link; each has its own database.
for n in 1 2; do
    in_ns "$tag-h$n" "$NM_BIN_DIR/newsmill-worker" --queue "tcp://10.211.$n.1:5556" \
        --stats "tcp://10.211.$n.1:5557" --db "$tmp/h$n/results.db" --name "h$n-worker" \
        --credit 16 --batch 8 >"$tmp/worker-h$n.log" 2>&1 &
done

# Both workers hold credit before anything is submitted, so both get work.
for _ in $(seq 1 120); do
    grep -q "worker joined name=h1-worker" "$tmp/queue.log" 2>/dev/null &&
        grep -q "worker joined name=h2-worker" "$tmp/queue.log" 2>/dev/null && break
    sleep 0.25
done
grep -q "worker joined name=h2-worker" "$tmp/queue.log" && grep -q "worker joined name=h1-worker" "$tmp/queue.log" ||
    fail "both workers did not join the queue within 30 s"

# Articles: 400 short text files written here.
mkdir -p "$tmp/in"
for i in $(seq 1 400); do
    printf 'Report %d from the wire\n\nOfficials in Ankara and São Paulo met on day %d to discuss trade.\n\nThe talks, the ministry said, would go on next week.\n' \
        "$i" "$i" >"$tmp/in/a$i.txt"
done
in_ns "$hub" "$NM_BIN_DIR/newsmill" submit --quiet --json --queue "tcp://127.0.0.1:5555" "$tmp/in" \
    >"$tmp/submit.out" 2>"$tmp/submit.log" || fail "submit failed: $(tail -n 3 "$tmp/submit.log")"
accepted=$(tail -n 1 "$tmp/submit.out" | sed -n 's/.*"accepted":\([0-9]*\).*/\1/p')
[ "$accepted" = 400 ] || fail "accepted $accepted of 400"

count() { [ -f "$1" ] && sqlite3 -cmd ".timeout 5000" "$1" "SELECT count(*) FROM article_rows;" 2>/dev/null || echo 0; }
c1=0 c2=0
for _ in $(seq 1 240); do
    c1=$(count "$tmp/h1/results.db"); c2=$(count "$tmp/h2/results.db")
    [ $((c1 + c2)) -ge 400 ] && break
    sleep 0.25
done
[ $((c1 + c2)) -eq 400 ] || fail "stored $c1 + $c2 of 400"
[ "$c1" -gt 0 ] && [ "$c2" -gt 0 ] || fail "one host did nothing: h1=$c1 h2=$c2"
distinct=$(sqlite3 "$tmp/h1/results.db" "ATTACH '$tmp/h2/results.db' AS h2;
    SELECT count(*) FROM (SELECT id FROM main.article_rows UNION SELECT id FROM h2.article_rows);")
[ "$distinct" = 400 ] || fail "$distinct distinct ids across hosts, want 400 (an article stored twice?)"

# The one collector has both hosts' workers and the queue, live.
seen=""
for _ in $(seq 1 40); do
    seen=$(in_ns "$hub" "$NM_BIN_DIR/newsmill" stats --collector "tcp://127.0.0.1:5558" --json 2>/dev/null |
        /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
print(" ".join(sorted(p["instance"] for p in s["processes"] if p["role"] == "worker" and p["status"] == "live")))' || true)
    [ "$seen" = "h1-worker h2-worker" ] && break
    sleep 0.5
done
[ "$seen" = "h1-worker h2-worker" ] || fail "the collector sees workers: '$seen'"
echo "multihost: h1=$c1 h2=$c2 stored, collector sees: $seen"
