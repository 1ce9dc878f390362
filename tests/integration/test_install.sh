#!/usr/bin/env bash
# The Debian package installed for real (root, as in CI): scripts/package
# builds it from this build tree, dpkg installs it, and the installed queue,
# two workers and the collector run as the newsmill user with the exact
# ExecStart lines of their units and the installed configuration (systemd
# is not PID 1 here) on free ports an operator would set in /etc/newsmill.
# The samples go through; `newsmill stats` and a query answer; SIGTERM stops
# everything cleanly. Also: systemd-analyze verify on the units, conffiles,
# the user and state directory, man pages with every option and default, a
# bad conffile line and an unwritable state directory refused at start,
# remove keeps /var/lib/newsmill, purge deletes it. Always purged at exit.
set -euo pipefail
: "${NM_BIN_DIR:?}" "${NM_BUILD_DIR:?}" "${NM_SOURCE_DIR:?}"
. "$(dirname "$0")/../support/testlib.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "skip: installs a Debian package, needs root (CI runs as root)"
    exit 77
fi
for tool in dpkg-deb dpkg-shlibdeps fakeroot systemd-analyze setpriv; do
    command -v $tool >/dev/null || fail "$tool missing: install scripts/deps.txt"
done
# One install at a time on this machine (two build trees, two sessions).
exec 9>/run/lock/newsmill-test-install.lock
flock -w 280 9 || fail "another test_install held the lock for 280 s"
# Never touch a real installation (nor the state a removed one left).
status=$(dpkg-query -W -f='${Status}' newsmill 2>/dev/null || true)
if { [ -n "$status" ] && [ "${status% not-installed}" = "$status" ]; } || [ -e /var/lib/newsmill ] || [ -e /etc/newsmill ]; then
    fail "newsmill is or was installed here (package, /var/lib/newsmill or /etc/newsmill): this test would replace and purge it"
fi

# dpkg ARGS... waiting (up to 2 minutes) while another dpkg or apt-get holds
# its lock (scripts/test may be installing packages in parallel); output
# appended to $tmp/dpkg.log.
dpkg_wait() {
    local i
    for i in $(seq 240); do
        dpkg "$@" >"$tmp/dpkg-last.out" 2>&1 && { cat "$tmp/dpkg-last.out" >>"$tmp/dpkg.log"; return 0; }
        cat "$tmp/dpkg-last.out" >>"$tmp/dpkg.log"
        grep -q 'lock' "$tmp/dpkg-last.out" || return 1
        sleep 0.5
    done
    return 1
}

started=()
installed=0
cleanup_install() {
    for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    if [ $installed = 1 ]; then
        dpkg_wait --purge newsmill || true
    fi
    cleanup
}
trap cleanup_install EXIT

t0=$(date +%s)
deb=$("$NM_SOURCE_DIR/scripts/package" --build "$NM_BUILD_DIR" --out "$tmp" --no-build 2>"$tmp/package.log") \
    || fail "scripts/package failed"
[ -f "$deb" ] || fail "no package at '$deb'"
case $(basename "$deb") in newsmill_*_"$(dpkg --print-architecture)".deb) ;; *) fail "package name $deb" ;; esac
depends=$(dpkg-deb -f "$deb" Depends)
grep -q 'libzmq5' <<<"$depends" || fail "Depends lacks libzmq5: $depends"
! grep -q -- '-dev' <<<"$depends" || fail "Depends names a -dev package: $depends"

sys_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin  # systemd's
installed=1
if ! dpkg_wait -i "$deb"; then
    DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq -o DPkg::Lock::Timeout=120 >>"$tmp/dpkg.log" 2>&1 \
        || fail "dpkg -i and apt-get install -f failed"
fi
dpkg-query -W -f='${Status}' newsmill | grep -q 'ok installed' || fail "newsmill not installed"

# Files where the FHS says, the user, the state directory, the conffiles.
for f in /usr/bin/newsmill /usr/bin/newsmill-queue /usr/bin/newsmill-worker /usr/bin/newsmill-collector \
         /usr/share/newsmill/ner-model.bin /usr/share/newsmill/stopwords/en.txt \
         /usr/lib/python3/dist-packages/newsmill/__init__.py /usr/lib/python3/dist-packages/newsmill/client.py \
         /usr/lib/python3/dist-packages/newsmill/results.py /usr/lib/python3/dist-packages/newsmill/newsmill_pb2.py \
         /usr/lib/systemd/system/newsmill-queue.service /usr/lib/systemd/system/newsmill-worker@.service \
         /usr/lib/systemd/system/newsmill-collector.service /usr/lib/systemd/system/newsmill-serve.service \
         /usr/lib/newsmill/newsmill_results.so; do
    [ -f "$f" ] || fail "$f not installed"
done
getent passwd newsmill >/dev/null || fail "no newsmill user"
[ "$(stat -c %U:%G /var/lib/newsmill)" = newsmill:newsmill ] || fail "/var/lib/newsmill owned by $(stat -c %U:%G /var/lib/newsmill)"
conffiles=$(dpkg-query -W -f='${Conffiles}' newsmill)
for c in queue worker collector serve; do
    grep -q "/etc/newsmill/$c.conf" <<<"$conffiles" || fail "/etc/newsmill/$c.conf is not a conffile: $conffiles"
done

# The data found from the program's place, with no variable; missing data
# named by its path.
env -i PATH=$sys_path /usr/bin/newsmill extract "$NM_SOURCE_DIR/samples/ankara-water-talks.txt" \
    >"$tmp/extract.out" 2>"$tmp/extract.log" || fail "installed newsmill extract failed"
grep -q '"language":"en"' "$tmp/extract.out" || fail "installed extract: no language"
mkdir -p "$tmp/elsewhere/bin" && cp /usr/bin/newsmill "$tmp/elsewhere/bin/"
if env -i PATH=$sys_path "$tmp/elsewhere/bin/newsmill" extract "$NM_SOURCE_DIR/samples/ankara-water-talks.txt" \
    >/dev/null 2>"$tmp/nodata.log"; then
    fail "a newsmill without data next to it extracted"
fi
grep -q "data dir $tmp/elsewhere/share/newsmill): opening $tmp/elsewhere/share/newsmill/stopwords/en.txt" \
    "$tmp/nodata.log" || fail "missing data not named by its path"

# Every option of every daemon, with its default, in its man page and its
# configuration file (commented out).
for p in newsmill-queue newsmill-worker newsmill-collector newsmill-serve; do
    page=/usr/share/man/man1/$p.1 conf=/etc/newsmill/${p#newsmill-}.conf
    [ -f "$page" ] || fail "no man page $page"
    while IFS= read -r line; do
        name=$(sed -E 's/^ +(-[a-z], )?--([a-z0-9-]+).*/\2/' <<<"$line")
        case $name in help|config) continue ;; esac
        grep -q -- "\\\\-\\\\-$(sed 's/-/\\\\-/g' <<<"$name")" "$page" || fail "$page lacks --$name"
        default=$(sed -nE 's/.*\(default: (.*)\)$/\1/p' <<<"$line")
        if [ -n "$default" ]; then
            grep -qF -- "$(sed 's/-/\\-/g' <<<"$default")" "$page" || fail "$page lacks the default of --$name ($default)"
            grep -qxF -- "#$name = $default" "$conf" || fail "$conf lacks '#$name = $default'"
        else
            grep -qE -- "^#$name( = )?" "$conf" || fail "$conf lacks --$name"
        fi
    done < <(if [ $p = newsmill-serve ]; then /usr/bin/newsmill serve --help; else /usr/bin/$p --help; fi |
             grep -E '^ +(-[a-z], )?--')
done
for sub in submit query stats dead; do
    [ -f /usr/share/man/man1/newsmill-$sub.1 ] || fail "no man page for newsmill $sub"
done

# The units pass systemd-analyze verify (with the installed programs).
units=(/usr/lib/systemd/system/newsmill-queue.service /usr/lib/systemd/system/newsmill-worker@.service
       /usr/lib/systemd/system/newsmill-collector.service /usr/lib/systemd/system/newsmill-serve.service)
systemd-analyze verify --man=no "${units[@]}" >"$tmp/verify.log" 2>&1 || fail "systemd-analyze verify failed"

# The operator's edits: free ports, appended to the installed conffiles.
front=$(free_port) back=$(free_port) stats=$(free_port) query=$(free_port) http=$(free_port) api=$(free_port)
cat >>/etc/newsmill/queue.conf <<CONF
front = tcp://127.0.0.1:$front
back = tcp://127.0.0.1:$back
stats = tcp://127.0.0.1:$stats
CONF
cat >>/etc/newsmill/worker.conf <<CONF
queue = tcp://127.0.0.1:$back
stats = tcp://127.0.0.1:$stats
CONF
cat >>/etc/newsmill/collector.conf <<CONF
stats-bind = tcp://127.0.0.1:$stats
query-bind = tcp://127.0.0.1:$query
http = 127.0.0.1:$http
CONF
cat >>/etc/newsmill/serve.conf <<CONF
listen = 127.0.0.1:$api
CONF

# A unit's ExecStart as systemd would run it: as User= in WorkingDirectory=,
# with systemd's PATH and an empty environment, %i and %H expanded.
exec_line() { # UNIT INSTANCE
    sed -n 's/^ExecStart=//p' "/usr/lib/systemd/system/$1" | sed -e "s/%i/$2/g" -e "s/%H/$(hostname)/g"
}
as_service() { # LOG UNIT INSTANCE: starts it in the background
    local line; line=$(exec_line "$2" "$3")
    [ "$(grep -c '^User=newsmill$' "/usr/lib/systemd/system/$2")" = 1 ] || fail "$2 has no User=newsmill"
    (cd /var/lib/newsmill && exec env -i PATH=$sys_path setpriv --reuid=newsmill --regid=newsmill --init-groups \
        sh -c "exec $line") >"$tmp/$1.log" 2>&1 &
    started+=($!)
}
[ "$(env -i PATH=$sys_path sh -c 'command -v newsmill-worker')" = /usr/bin/newsmill-worker ] \
    || fail "newsmill-worker on systemd's PATH is not /usr/bin/newsmill-worker"

# Bad input: an unknown option in the conffile, a state directory the user
# cannot write. Each refused at start, naming the line or the path.
cp /etc/newsmill/worker.conf "$tmp/worker.conf.good"
echo "threads = 4" >>/etc/newsmill/worker.conf
set +e
(cd /var/lib/newsmill && env -i PATH=$sys_path setpriv --reuid=newsmill --regid=newsmill --init-groups \
    sh -c "exec $(exec_line newsmill-worker@.service bad)") >"$tmp/bad-conf.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || fail "a worker with an unknown option in its conffile started"
n=$(grep -c '' /etc/newsmill/worker.conf)
grep -q "/etc/newsmill/worker.conf:$n: unknown option 'threads'" "$tmp/bad-conf.log" || fail "no line named for the bad option"
cp "$tmp/worker.conf.good" /etc/newsmill/worker.conf
mkdir -p /var/lib/newsmill/readonly && chmod 0755 /var/lib/newsmill/readonly
set +e
(cd /var/lib/newsmill && env -i PATH=$sys_path setpriv --reuid=newsmill --regid=newsmill --init-groups \
    sh -c "exec $(exec_line newsmill-worker@.service ro) --results-dir /var/lib/newsmill/readonly/new") \
    >"$tmp/readonly.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || fail "a worker that cannot write its database directory started"
grep -q "cannot start: .*/var/lib/newsmill/readonly/new: Permission denied" "$tmp/readonly.log" \
    || fail "no clear error for an unwritable state directory"
set +e
(cd /var/lib/newsmill && env -i PATH=$sys_path setpriv --reuid=newsmill --regid=newsmill --init-groups \
    sh -c "exec $(exec_line newsmill-queue.service "") --spool /var/lib/newsmill/readonly/queue.db") \
    >"$tmp/readonly-queue.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || fail "a queue that cannot write its spool directory started"
grep -q "cannot start: opening spool .*directory /var/lib/newsmill/readonly: Permission denied" \
    "$tmp/readonly-queue.log" || fail "no clear error for an unwritable spool directory"
rmdir /var/lib/newsmill/readonly

# The fleet: collector, queue, two workers.
as_service collector newsmill-collector.service ""
as_service queue newsmill-queue.service ""
as_service worker-1 newsmill-worker@.service 1
as_service worker-2 newsmill-worker@.service 2
nm=/usr/bin/newsmill
out=$(env -i PATH=$sys_path $nm submit --json --queue "tcp://127.0.0.1:$front" "$NM_SOURCE_DIR/samples" 2>"$tmp/submit.log") \
    || fail "submit to the installed queue failed: $out"
submitted=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["accepted"])' <<<"$out")
[ "$submitted" -ge 8 ] || fail "only $submitted samples accepted"
committed=-1
for _ in $(seq 300); do
    committed=$($nm stats --json --collector "tcp://127.0.0.1:$query" 2>/dev/null \
        | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["totals"]["committed"]))' 2>/dev/null) || true
    [ "$committed" = "$submitted" ] && break
    sleep 0.1
done
[ "$committed" = "$submitted" ] || fail "stats: committed $committed of $submitted"
$nm stats --collector "tcp://127.0.0.1:$query" >"$tmp/stats.out" 2>&1 || fail "newsmill stats failed"
for w in 1 2; do
    grep -q "$(hostname):worker-$w" "$tmp/stats.out" || fail "stats do not show $(hostname):worker-$w"
done
# The package's workers write daily partitions, one file per worker.
parts=(/var/lib/newsmill/results/results-*-w[0-9]*.db)
for f in "${parts[@]}"; do
    [ -f "$f" ] || fail "no partition $f: $(ls -la /var/lib/newsmill/results 2>&1)"
    [ "$(stat -c %U "$f")" = newsmill ] || fail "$f not owned by newsmill"
done
[ "$(stat -c %U /var/lib/newsmill/queue.db)" = newsmill ] || fail "queue.db not owned by newsmill"
out=$(env -i PATH=$sys_path setpriv --reuid=newsmill --regid=newsmill --init-groups \
    $nm query --dir /var/lib/newsmill/results search Aberdeen 2>&1) || fail "query failed: $out"
grep -q 'wind-farm-wire' <<<"$out" || fail "query does not find the wind farm article: $out"
# The sqlite3 shell with the installed extension (docs/operating.md), on a
# copy of the partition that holds the wind farm article.
for f in "${parts[@]}"; do
    [ "$(sqlite3 "$f" "SELECT count(*) FROM article_rows WHERE id LIKE '%wind-farm-wire%'")" = 1 ] && wind=$f
done
[ -n "${wind:-}" ] || fail "no partition holds the wind farm article"
sqlite3 "$wind" ".backup '$tmp/copy.db'" || fail "sqlite3 .backup failed"
# A sanitizer build installed an instrumented extension: the ASan runtime
# goes first into the uninstrumented shell (as in test_sqlite_shell).
asan=$(ldd /usr/lib/newsmill/newsmill_results.so | awk '/libasan/ {print $3}')
out=$(LD_PRELOAD=$asan ASAN_OPTIONS=detect_leaks=0 \
    sqlite3 -cmd '.load /usr/lib/newsmill/newsmill_results' "$tmp/copy.db" 'PRAGMA integrity_check' \
    "SELECT instr(body, '40-turbine wind farm') > 0 FROM articles WHERE id LIKE '%wind-farm-wire%'" 2>&1)
[ "$out" = "$(printf 'ok\n1')" ] || fail "sqlite3 with /usr/lib/newsmill/newsmill_results: $out; ids: $(sqlite3 "$tmp/copy.db" "SELECT id FROM article_rows")"
# The read side, as newsmill-serve.service runs it.
as_service serve newsmill-serve.service ""
found=""
for _ in $(seq 100); do
    found=$(curl -sf "http://127.0.0.1:$api/api/search?q=Aberdeen" 2>/dev/null) && break
    sleep 0.1
done
grep -q 'wind-farm-wire' <<<"$found" || fail "the installed serve does not find the wind farm article: $found $(cat "$tmp/serve.log")"
stop_serve=${started[4]}
# The installed Python package finds its messages inside itself.
(cd / && env -i PATH=$sys_path python3 -c 'import newsmill; newsmill.Client; newsmill.Results') 2>"$tmp/python.log" ||
    fail "installed Python package does not import: $(cat "$tmp/python.log")"

# SIGTERM: workers first (they drain into the queue), then queue, collector.
stop() { # PID NAME
    kill -TERM "$1"
    local rc=0
    for _ in $(seq 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$1" 2>/dev/null && fail "$2 still runs 15 s after SIGTERM"
    wait "$1" || rc=$?
    [ $rc = 0 ] || fail "$2 exited $rc after SIGTERM"
}
stop "$stop_serve" serve
stop "${started[2]}" worker-1
stop "${started[3]}" worker-2
stop "${started[1]}" queue
stop "${started[0]}" collector
started=()

# Remove keeps the state; purge deletes it.
dpkg_wait -r newsmill || fail "dpkg -r failed"
[ ! -e /usr/bin/newsmill-worker ] || fail "dpkg -r left /usr/bin/newsmill-worker"
[ -f "${parts[0]}" ] || fail "dpkg -r deleted ${parts[0]}"
[ -f /etc/newsmill/worker.conf ] || fail "dpkg -r deleted the conffiles"
dpkg_wait --purge newsmill || fail "dpkg --purge failed"
installed=0
[ ! -e /var/lib/newsmill ] || fail "purge left /var/lib/newsmill"
[ ! -e /etc/newsmill ] || fail "purge left /etc/newsmill"
echo "ok: package built, installed, run, removed and purged in $(( $(date +%s) - t0 )) s"
