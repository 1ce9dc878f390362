#!/usr/bin/env bash
# /metrics under Prometheus's own tools: `promtool check metrics` accepts the
# exposition of a busy pretend fleet, and a real Prometheus server scrapes the
# collector with health "up" and reads our series back.
set -euo pipefail
: "${NM_BIN_DIR:?}"
. "$(dirname "$0")/../support/testlib.sh"

command -v promtool >/dev/null || { echo "SKIP: promtool not installed (Debian package prometheus)"; exit 77; }

stats=$(free_port); query=$(free_port); http=$(free_port)
"$NM_BIN_DIR/newsmill-collector" --stats-bind "tcp://127.0.0.1:$stats" --query-bind "tcp://127.0.0.1:$query" \
    --http "127.0.0.1:$http" >"$tmp/collector.log" 2>&1 &
pids+=($!)
"$NM_BIN_DIR/statsgen" --stats "tcp://127.0.0.1:$stats" --workers 3 --seconds 30 --interval 200ms \
    >"$tmp/statsgen.log" 2>&1 &
pids+=($!)

# wait until the pretend workers' histograms show up, and worker-1's own
# series (the three report at their own moments: on a loaded machine the
# fleet sum can show before worker-1 has reported)
for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$http/metrics" >"$tmp/metrics.txt" 2>/dev/null &&
        grep -q '^newsmill_fleet_worker_extract_seconds_bucket{le="+Inf"} [1-9]' "$tmp/metrics.txt" &&
        grep -q '^newsmill_worker_articles_done_total{instance="statsgen-worker-1",' "$tmp/metrics.txt"; then
        break
    fi
    sleep 0.2
done
grep -q '^newsmill_fleet_worker_extract_seconds_bucket{le="+Inf"} [1-9]' "$tmp/metrics.txt" || fail "no fleet histogram in /metrics"
grep -q '^# TYPE newsmill_worker_articles_done_total counter$' "$tmp/metrics.txt" || fail "no TYPE line for the done counter"
grep -q '^newsmill_worker_articles_done_total{instance="statsgen-worker-1",role="worker",host="' "$tmp/metrics.txt" ||
    fail "no per-instance done series"
promtool check metrics <"$tmp/metrics.txt" >"$tmp/promtool.log" 2>&1 || { cat "$tmp/promtool.log" >&2; fail "promtool check metrics"; }
echo "promtool check metrics: ok ($(wc -l <"$tmp/metrics.txt") lines)"

if ! command -v prometheus >/dev/null; then
    echo "SKIP: prometheus server not installed (Debian package prometheus); promtool check passed"
    exit 77
fi
prom=$(free_port)
cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: newsmill
    static_configs:
      - targets: ['127.0.0.1:$http']
YML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
    --web.listen-address="127.0.0.1:$prom" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
up=""
for _ in $(seq 1 60); do  # at most ~15 s
    up=$(curl -sf "http://127.0.0.1:$prom/api/v1/query?query=up" 2>/dev/null |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null || true)
    [ "$up" = 1 ] && break
    sleep 0.25
done
[ "$up" = 1 ] || fail "Prometheus did not scrape the collector (up=$up)"
health=$(curl -sf "http://127.0.0.1:$prom/api/v1/targets" |
    python3 -c 'import json,sys; t=json.load(sys.stdin)["data"]["activeTargets"]; print(t[0]["health"], t[0]["lastError"] or "-")') ||
    fail "Prometheus /api/v1/targets did not answer"
[ "${health%% *}" = up ] || fail "target health: $health"
# and it understood our series: the fleet committed counter is a number > 0
done_total=0
for _ in $(seq 1 20); do
    done_total=$(curl -sf "http://127.0.0.1:$prom/api/v1/query?query=newsmill_fleet_worker_articles_done_total" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)' ||
        echo 0)
    python3 -c "import sys; sys.exit(0 if float('$done_total') > 0 else 1)" && break
    sleep 0.25
done
python3 -c "import sys; sys.exit(0 if float('$done_total') > 0 else 1)" || fail "Prometheus has no committed total"
echo "prometheus scraped the collector: health up, newsmill_fleet_worker_articles_done_total=$done_total"
