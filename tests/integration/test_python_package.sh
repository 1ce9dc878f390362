#!/usr/bin/env bash
# The Python package (python/): `python3 -m venv --system-site-packages v &&
# v/bin/pip install ./python` offline (no index: the build backend is in the
# package and needs only the standard library and protoc), then its unittest
# suite (python/tests) with the installed package against a real fleet and
# `newsmill serve` (plain and with a token).
set -euo pipefail
: "${NM_BIN_DIR:?}" "${NM_SOURCE_DIR:?}"
py=/usr/bin/python3  # Debian's, with python3-zmq and python3-protobuf
for p in newsmill-queue newsmill-worker newsmill-collector newsmill; do
    [ -x "$NM_BIN_DIR/$p" ] || { echo "SKIP: $p is not built"; exit 77; }
done
$py -c 'import zmq, google.protobuf, venv, ensurepip' 2>/dev/null ||
    { echo "SKIP: python3-zmq, python3-protobuf or python3-venv missing (scripts/deps.txt)"; exit 77; }
command -v protoc >/dev/null || { echo "SKIP: protoc missing (protobuf-compiler)"; exit 77; }
. "$(dirname "$0")/../support/testlib.sh"
. "$(dirname "$0")/../support/fleet_results.sh"
nm=$NM_BIN_DIR/newsmill

# Install offline, from a copy of the sources (the build must not need a
# writable repository), into a fresh venv.
$py -m venv --system-site-packages "$tmp/v" >"$tmp/venv.log" 2>&1 || fail "venv"
PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 "$tmp/v/bin/pip" install "$NM_SOURCE_DIR/python" \
    >"$tmp/pip.log" 2>&1 || fail "pip install ./python (offline)"
[ -z "$(find "$NM_SOURCE_DIR/python" -name newsmill_pb2.py)" ] || fail "newsmill_pb2.py was written into the sources"

fleet_results
port=$(free_port) tport=$(free_port)
"$nm" serve --db "$var/results.db" --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
pids+=($!)
echo "token-for-the-python-test-0123456789" >"$tmp/token"
"$nm" serve --db "$var/results.db" --listen "127.0.0.1:$tport" --token-file "$tmp/token" >"$tmp/serve-token.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    curl -s "http://127.0.0.1:$port/" >/dev/null && curl -s "http://127.0.0.1:$tport/" >/dev/null && break
    sleep 0.1
done

# From outside the repository, so that `import newsmill` is the installed one.
cd "$tmp"
env -u NEWSMILL_PYTHON_DIR NEWSMILL_TEST_INSTALLED=1 NEWSMILL_TEST_NM="$nm" NEWSMILL_TEST_DB="$var/results.db" \
    NEWSMILL_TEST_SERVE="http://127.0.0.1:$port" NEWSMILL_TEST_SERVE_TOKEN_URL="http://127.0.0.1:$tport" \
    NEWSMILL_TEST_TOKEN="$(cat "$tmp/token")" NEWSMILL_TEST_QUEUE="$queue" \
    NEWSMILL_TEST_COLLECTOR="tcp://127.0.0.1:$(( ${queue##*:} + 3 ))" \
    "$tmp/v/bin/python" -m unittest discover -s "$NM_SOURCE_DIR/python/tests" -v >"$tmp/unittest.log" 2>&1 ||
    fail "python/tests failed"
tail -n 3 "$tmp/unittest.log"
grep -q "skipped" "$tmp/unittest.log" && fail "python/tests skipped some tests"
exit 0
