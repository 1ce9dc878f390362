#!/usr/bin/env bash
# Multi-host on JetStream: five "hosts" as network namespaces made by this
# test, on one bridge (10.212.0.0/24, inside the namespaces only). Hosts
# n1, n2, n3 each run a nats-server (one 3-node cluster, 3 replicas) and a
# queue front (--store jetstream); hosts w1 and w2 each run a worker given
# the three fronts, with its own results database. Everything goes over
# real TCP between namespaces.
#  1. 300 articles submitted to the three fronts are all stored, by both
#     worker hosts.
#  2. Host n1 dies (kill -9 of its nats-server and its front): 300 more are
#     submitted through the fronts list (sent again while refused: the two
#     nodes left take a few seconds to elect new leaders); the producer and
#     the workers move to the fronts left, and every
#     acked article is stored (the dead front's deliveries come back after
#     the ack wait; an article a worker had stored through it may be stored
#     by the other worker host too: the same version, in each host's own
#     database, as docs/guarantees.md says).
set -euo pipefail
: "${NM_BIN_DIR:?}"
. "$(dirname "$0")/../support/netnslib.sh"
for p in newsmill-queue newsmill-worker newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
command -v ip >/dev/null || { echo "SKIP: ip (iproute2) is not installed"; exit 77; }
command -v nats-server >/dev/null || { echo "SKIP: nats-server missing (scripts/deps.txt)"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: the sqlite3 shell is not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }

tag="nj$$"
hosts=(n1 n2 n3 w1 w2)
declare -A addr=([n1]=10.212.0.1 [n2]=10.212.0.2 [n3]=10.212.0.3 [w1]=10.212.0.11 [w2]=10.212.0.12)
if ! ip netns add "$tag-sw" 2>/dev/null; then
    echo "SKIP: cannot create network namespaces here (needs root / CAP_SYS_ADMIN)"
    exit 77
fi
tmp=$(mktemp -d)
cleanup() {
    netns_remove "${hosts[@]/#/$tag-}" "$tag-sw"
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "--- $f" >&2; tail -n 20 "$f" >&2; done; exit 1; }
in_ns() { local h=$1; shift; ip netns exec "$tag-$h" "$@"; }

# The bridge, and one veth link from each host to it.
ip -n "$tag-sw" link add br0 type bridge
ip -n "$tag-sw" link set br0 up
i=0
for h in "${hosts[@]}"; do
    i=$((i + 1))
    ip netns add "$tag-$h"
    ip -n "$tag-$h" link set lo up
    ip link add "$tag-h$i" type veth peer name "$tag-s$i"
    ip link set "$tag-h$i" netns "$tag-$h"
    ip link set "$tag-s$i" netns "$tag-sw"
    ip -n "$tag-sw" link set "$tag-s$i" master br0 up
    ip -n "$tag-$h" addr add "${addr[$h]}/24" dev "$tag-h$i"
    ip -n "$tag-$h" link set "$tag-h$i" up
done
port_open() { in_ns "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; }
wait_port() { # wait_port HOST ADDR PORT: up to 30 s
    for _ in $(seq 300); do port_open "$@" && return 0; sleep 0.1; done
    return 1
}

# The cluster: a nats-server on each of n1..n3.
routes=nats://${addr[n1]}:6222,nats://${addr[n2]}:6222,nats://${addr[n3]}:6222
urls=nats://${addr[n1]}:4222,nats://${addr[n2]}:4222,nats://${addr[n3]}:4222
for h in n1 n2 n3; do
    in_ns "$h" nats-server -a "${addr[$h]}" -p 4222 -m 8222 -js -sd "$tmp/$h/nats" \
        --server_name "$h" --cluster_name nmhosts --cluster "nats://${addr[$h]}:6222" \
        --routes "$routes" >"$tmp/nats-$h.log" 2>&1 &
done
for h in n1 n2 n3; do
    wait_port "$h" "${addr[$h]}" 4222 || fail "nats-server on $h did not start"
done
for h in n1 n2 n3; do
    for _ in $(seq 300); do
        in_ns "$h" curl -sf "http://${addr[$h]}:8222/healthz" >/dev/null && break
        sleep 0.1
    done
done

# A front on each node's host; the same lease on all (one consumer's ack wait).
for h in n1 n2 n3; do
    in_ns "$h" "$NM_BIN_DIR/newsmill-queue" --store jetstream --nats "$urls" \
        --front "tcp://${addr[$h]}:5555" --back "tcp://${addr[$h]}:5556" --stats "" \
        --lease 3s --worker-timeout 3s >"$tmp/front-$h.log" 2>&1 &
done
for h in n1 n2 n3; do
    wait_port "$h" "${addr[$h]}" 5555 || fail "the front on $h did not start"
done
fronts=tcp://${addr[n1]}:5555,tcp://${addr[n2]}:5555,tcp://${addr[n3]}:5555
backs=tcp://${addr[n1]}:5556,tcp://${addr[n2]}:5556,tcp://${addr[n3]}:5556
for h in w1 w2; do
    in_ns "$h" "$NM_BIN_DIR/newsmill-worker" --queue "$backs" --failover-after 3s --stats "" \
        --db "$tmp/$h/results.db" --name "$h-worker" --credit 16 --batch 8 \
        >"$tmp/worker-$h.log" 2>&1 &
done
# Both workers hold credit at a front before anything is submitted.
for _ in $(seq 120); do
    [ "$(cat "$tmp"/front-*.log | grep -c 'worker joined')" -ge 2 ] && break
    sleep 0.25
done
[ "$(cat "$tmp"/front-*.log | grep -c 'worker joined')" -ge 2 ] || fail "both workers did not join a front within 30 s"

articles() { # articles FROM TO: JSON lines, ids m<N>
    python3 - "$1" "$2" <<'PY'
import json, sys
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    print(json.dumps({"id": "m%d" % i, "source": "hosts", "content_type": "text",
                      "body": "Report %d\n\nOfficials in Ankara and São Paulo met on day %d. " % (i, i) * 3}))
PY
}
submit() { # submit FROM TO, from host n2, through the fronts list; a refused
    # submit is sent again (the cluster elects new leaders for a few seconds
    # after a node dies; the message ids keep one copy of what was stored)
    articles "$1" "$2" >"$tmp/load.jsonl"
    local try
    for try in $(seq 30); do
        if in_ns n2 "$NM_BIN_DIR/newsmill" submit --quiet --json --batch 25 --queue "$fronts" \
            --timeout 5s - <"$tmp/load.jsonl" >"$tmp/submit.out" 2>>"$tmp/submit.log"; then
            accepted=$(tail -n 1 "$tmp/submit.out" | sed -n 's/.*"accepted":\([0-9]*\).*/\1/p')
            [ "$accepted" = $(($2 - $1)) ] || fail "accepted $accepted of $(($2 - $1))"
            submits=$try
            return 0
        fi
        sleep 1
    done
    fail "submit $1..$2 refused 30 times: $(tail -n 3 "$tmp/submit.log")"
}
count() { [ -f "$1" ] && sqlite3 -cmd ".timeout 5000" "$1" "SELECT count(*) FROM article_rows;" 2>/dev/null || echo 0; }
distinct() {
    for h in w1 w2; do
        [ -f "$tmp/$h/results.db" ] && sqlite3 -cmd ".timeout 5000" "$tmp/$h/results.db" \
            "SELECT id FROM article_rows" 2>/dev/null
    done | sort -u | grep -c '^m' || true
}
wait_distinct() { # up to 60 s
    for _ in $(seq 240); do [ "$(distinct)" -ge "$1" ] && return 0; sleep 0.25; done
    return 1
}

# 1. Across hosts.
submit 0 300
wait_distinct 300 || fail "stored $(distinct) of 300"
c1=$(count "$tmp/w1/results.db") c2=$(count "$tmp/w2/results.db")
[ $((c1 + c2)) -eq 300 ] || fail "stored $c1 + $c2 rows for 300 articles (one stored twice?)"
[ "$c1" -gt 0 ] && [ "$c2" -gt 0 ] || fail "one worker host did nothing: w1=$c1 w2=$c2"

# 2. Host n1 dies: its node and its front, kill -9.
netns_kill "$tag-n1"
submit 300 600
wait_distinct 600 || fail "after host n1 died: stored $(distinct) of 600"
c1=$(count "$tmp/w1/results.db") c2=$(count "$tmp/w2/results.db")
echo "multihost-nats: w1=$c1 w2=$c2 rows, $(distinct) distinct of 600, host n1 killed, the second load sent $submits time(s)"
