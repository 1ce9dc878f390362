#!/usr/bin/env bash
# The Python client (python/newsmill, from the source tree) against a real queue and collector:
# submit dicts and a folder and read the acks, stats(), dead(), and a queue
# that is down (NewsmillTimeout, quickly).
set -uo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}" "${NM_BUILD_DIR:?}"
py=/usr/bin/python3
for p in newsmill-queue newsmill-collector; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
[ -f "$NM_BUILD_DIR/python/newsmill_pb2.py" ] || { echo "SKIP: no generated Python messages (protoc missing?)"; exit 77; }
$py -c 'import zmq, google.protobuf' 2>/dev/null || { echo "SKIP: python3-zmq or python3-protobuf missing"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nm-py-XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$NM_SOURCE_DIR/tests/support/free_port.sh"
front=tcp://127.0.0.1:$(free_port) back=tcp://127.0.0.1:$(free_port)
stats=tcp://127.0.0.1:$(free_port) query=tcp://127.0.0.1:$(free_port) down=tcp://127.0.0.1:$(free_port)

"$NM_BIN_DIR/newsmill-collector" --stats-bind "$stats" --query-bind "$query" --http off \
    >"$tmp/collector.log" 2>&1 &
pids+=($!)
"$NM_BIN_DIR/newsmill-queue" --front "$front" --back "$back" --stats "$stats" \
    --spool "$tmp/queue.db" >"$tmp/queue.log" 2>&1 &
pids+=($!)
# A queue that holds one article, for the refusal that passes (queue full)
full_front=tcp://127.0.0.1:$(free_port) full_back=tcp://127.0.0.1:$(free_port)
"$NM_BIN_DIR/newsmill-queue" --front "$full_front" --back "$full_back" --stats "" --max-backlog 1 \
    --spool "$tmp/full.db" >"$tmp/queue-full.log" 2>&1 &
pids+=($!)

export NEWSMILL_PYTHON_DIR=$NM_BUILD_DIR/python
PYTHONPATH=$NM_SOURCE_DIR/python $py - "$front" "$query" "$down" "$NM_SOURCE_DIR/samples" \
    "$full_front" "$full_back" "$NM_BIN_DIR/newsmill-worker" "$tmp" <<'EOF'
import subprocess, sys, time
import newsmill

front, query, down, samples, full_front, full_back, worker, tmp = sys.argv[1:]
c = newsmill.Client(front, collector=query, timeout=5)

# dicts, with every field the JSON-lines format has
arts = [
    {"id": "py-1", "source": "py", "published": "2024-05-01T10:00:00Z", "content_type": "text",
     "body": "Kalın in Ankara\n\nİbrahim met officials in Ankara.", "metadata": {"k": "v"}},
    {"id": "py-2", "published": 1714557600, "content_type": "html",
     "body": "<h1>São Paulo</h1><p>Metro line opens.</p>", "language": "pt"},
    {"id": "py-3", "body": "Plain\n\nNo metadata at all."},
]
acks = c.submit(arts, batch=2)
assert [a.index for a in acks] == [0, 1, 2], acks
assert [a.id for a in acks] == ["py-1", "py-2", "py-3"], acks
assert all(a.accepted for a in acks), acks

# a folder, five lines as in README
acks = c.submit(newsmill.articles_from_dir(samples))
n_files = sum(1 for _ in newsmill.articles_from_dir(samples))
assert len(acks) == n_files and n_files >= 6, (len(acks), n_files)
assert all(a.accepted for a in acks), [a for a in acks if not a.accepted]

dead = c.dead()
assert dead.total == 0 and len(dead.dead) == 0, dead

# stats: the queue reports to the collector about once a second
deadline = time.monotonic() + 10
roles = set()
while time.monotonic() < deadline:
    snap = c.stats()
    roles = {p.last.role for p in snap.processes}
    if "queue" in roles:
        break
    time.sleep(0.2)
assert "queue" in roles, roles
c.close()

# a queue that is down: a timeout, not a hang
d = newsmill.Client(down, timeout=0.3, retries=1)
t0 = time.monotonic()
try:
    d.submit([{"body": "x"}])
    raise SystemExit("submit to a dead endpoint did not raise")
except newsmill.NewsmillTimeout as e:
    assert time.monotonic() - t0 < 3, time.monotonic() - t0
# a full queue: refused at once with retries=0; with retries, sent again
# until a worker, started 1 s later, has made room
f = newsmill.Client(full_front, timeout=2, retries=0)
assert f.submit([{"id": "full-1", "body": "One\n\nKalın in Ankara."}])[0].accepted
try:
    f.submit([{"id": "full-2", "body": "Two\n\nSão Paulo."}])
    raise SystemExit("a submit to a full queue with retries=0 did not raise")
except newsmill.NewsmillError as e:
    assert "full" in str(e), e
f.retries = 3
w = subprocess.Popen(["sh", "-c", 'sleep 1; exec "$0" --queue "$1" --stats "" --db "$2"',
                      worker, full_back, tmp + "/full-results.db"],
                     stderr=open(tmp + "/worker-full.log", "w"))
try:
    acks = f.submit([{"id": "full-2", "body": "Two\n\nSão Paulo."}])
    assert acks[0].accepted, acks
finally:
    w.terminate()
    w.wait()
f.close()
print("python client: all checks passed")
EOF
rc=$?
if [ $rc -ne 0 ]; then
    echo "--- queue log"; tail -n 20 "$tmp/queue.log"
    echo "--- collector log"; tail -n 20 "$tmp/collector.log"
fi
exit $rc
