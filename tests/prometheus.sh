#!/usr/bin/env bash
# Debian's Prometheus scrapes the service's /metrics (with a viewer token, as an operator would
# configure it) and a metric is read back through Prometheus's own query API: the exposition is
# one Prometheus accepts, not one that merely looks right.
set -euo pipefail
bin=$(readlink -f "$1")
work=$(mktemp -d /tmp/ledgersync-prom-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.2;
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || { echo "FAIL - prometheus is not installed (scripts/setup installs it)"; exit 1; }
export LEDGERSYNC_DATA_DIR="$work/data"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$bin" sandbox --port 0 --records 100 >"$work/sandbox.log" 2>&1 &
pids+=($!)
wait_for "sandbox" grep -q "http://" "$work/sandbox.log"
sb_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sandbox.log")
"$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
pids+=($!)
wait_for "service.json" test -s "$work/data/service.json"
http_port=$(json_eval "d['http_port']" <"$work/data/service.json")
echo sk_test_sandbox >"$work/key"
"$bin" add acme --connector rest --base-url "http://127.0.0.1:$sb_port" --api-key-file "$work/key" \
  --schedule manual >/dev/null
"$bin" sync acme --wait >/dev/null
token=$("$bin" token create --role viewer --name prometheus --json | json_eval "d['token']")

prom_port=$(free_port)
cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: ledgersync
    authorization:
      type: Bearer
      credentials: $token
    static_configs:
      - targets: ["127.0.0.1:$http_port"]
YML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
query() {  # query EXPR: the first result's value, or nothing
  /usr/bin/python3 - "$prom_port" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?query=%s" % (sys.argv[1], urllib.parse.quote(sys.argv[2]))
try:
    r = json.load(urllib.request.urlopen(url, timeout=5))
    print(r["data"]["result"][0]["value"][1])
except Exception:
    sys.exit(1)
PY
}
on_wait_timeout() { tail -5 "$work/prometheus.log"; }
wait_for "Prometheus to scrape a run" query 'ledgersync_runs_total{integration="acme",outcome="ok"}'
check "Prometheus reads runs_total back" \
  "$(query 'sum(ledgersync_runs_total{integration="acme",outcome="ok"})')" 1
check "...and the integration's status gauge" \
  "$(query 'ledgersync_integration_status{integration="acme",status="active"}')" 1
check "...and the records synced" \
  "$(query 'sum(ledgersync_records_synced_total{integration="acme"})')" 300
check "the engine's mailbox backlog is exported (and empty when idle)" \
  "$(query 'ledgersync_mailbox_backlog{actor="engine"}')" 0
check "the target is up" "$(query 'up{job="ledgersync"}')" 1
echo "prometheus: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
