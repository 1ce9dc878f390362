# Shared by the bash integration tests: source it after `set -euo pipefail`:
#   . "$(dirname "$0")/../support/testlib.sh"
# It gives a private $tmp (removed at exit), $pids (background processes to
# kill at exit), fail MESSAGE (prints the message and the tail of every log
# and output file in $tmp, then exits 1) and free_port (a TCP port on
# 127.0.0.1 that was free a moment ago, below the ephemeral range, and
# not handed out before in this test: free_port.sh).
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for f in "$tmp"/*.log "$tmp"/*.out; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
}
. "$(dirname "${BASH_SOURCE[0]}")/free_port.sh"
