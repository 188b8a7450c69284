#!/usr/bin/env bash
# Interop: real servers nobody on this project wrote, on loopback, synced end to end with exact
# counts and an incremental second run.
#  - json-server 0.17.4 (npm; scripts/setup installs it into tools/npm): 5,000 invoices paged by
#    its RFC 8288 Link header with absolute URLs on a non-default port, `_gte` filters,
#    X-Total-Count, a top-level JSON array as the page; records changed through its own API.
#  - Python's http.server: a static JSON file; If-Modified-Since answered with 304.
# Waits below poll real processes (bounded); no behaviour under test depends on them.
set -euo pipefail
bin=$(readlink -f "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
json_server=${JSON_SERVER:-$root/tools/npm/node_modules/.bin/json-server}
if [ ! -x "$json_server" ]; then
  echo "FAIL - json-server not found at $json_server: run scripts/setup (it installs json-server@0.17.4 into tools/npm)"
  exit 1
fi
work=$(mktemp -d /tmp/ledgersync-interop-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export LEDGERSYNC_DATA_DIR="$work/data"
N=5000
on_wait_timeout() { tail -5 "$work"/*.log; }
source "$(dirname "$0")/lib.sh"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
answers() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1"; }
api() {  # api METHOD URL JSON: json-server's own write API
  python3 -c 'import sys, urllib.request
r = urllib.request.Request(sys.argv[2], data=sys.argv[3].encode(), method=sys.argv[1],
                           headers={"Content-Type": "application/json"})
urllib.request.urlopen(r, timeout=10)' "$@"
}
sync_json() { "$bin" sync "$1" --wait --json || true; }  # checks below say what went wrong
served() { sed 's/\x1b\[[0-9;]*m//g' "$work/json-server.log" | grep -c "$1" || true; }  # json-server's request log, colours off

mkdir -p "$work/data" "$work/static"
"$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
pids+=($!)
wait_for "service.json" test -s "$work/data/service.json"
echo "interop-key" >"$work/key"

# --- json-server -------------------------------------------------------------------------------
python3 - "$work/db.json" "$N" <<'EOF'
import datetime, json, sys
base = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
iso = lambda t: t.strftime('%Y-%m-%dT%H:%M:%S.000Z')
invoices = [{"id": i, "customer_id": "cus_%d" % (i % 97), "total": 1000 + i, "currency": "EUR",
             "updated_at": iso(base + datetime.timedelta(seconds=i))} for i in range(1, int(sys.argv[2]) + 1)]
json.dump({"invoices": invoices}, open(sys.argv[1], "w"))
EOF
js_port=$(free_port)
"$json_server" --host 127.0.0.1 --port "$js_port" "$work/db.json" </dev/null >"$work/json-server.log" 2>&1 &
pids+=($!)
js="http://127.0.0.1:$js_port"
wait_for "json-server" answers "$js/invoices?_limit=1"
cat >"$work/json-server-streams.json" <<'EOF'
[{"name": "invoices", "path": "/invoices", "entity": "invoice",
  "records": "", "id": "/id", "updated_at": "/updated_at", "total": "",
  "total_header": "X-Total-Count",
  "required": ["/customer_id", "/total", "/currency"],
  "query": {"_page": "1"},
  "incremental": {"param": "updated_at_gte"},
  "pagination": {"style": "link"},
  "page_size": {"param": "_limit", "value": 500}}]
EOF
"$bin" add js --connector rest --base-url "$js" --api-key-file "$work/key" --schedule manual \
  --streams-file "$work/json-server-streams.json" --manual-burst 20 --upstream-rate 1000 \
  --upstream-burst 100 >/dev/null
sync_json js >"$work/js1.json"
check "json-server: run ok" "$(json_eval "d['status']" <"$work/js1.json")" ok
check "json-server: all $N fetched over Link pages" "$(json_eval "d['fetched'], d['pages']" <"$work/js1.json")" "($N, 10)"
check "json-server: all inserted" "$(json_eval "d['inserted']" <"$work/js1.json")" $N
check "json-server: total from X-Total-Count" "$(json_eval "d['total']" <"$work/js1.json")" $N
check "json-server: records stored" "$("$bin" records js --json | wc -l)" $N
check "json-server: every page after the first came from its absolute Link" \
  "$(served "^GET /invoices?_page=[0-9]*&_limit=500 200 ")" 10

# Changes through json-server's own API: 7 records edited, 3 added, all after the watermark.
for i in 1 17 999 2500 3333 4321 4999; do
  api PATCH "$js/invoices/$i" "{\"total\": 7, \"updated_at\": \"2026-06-01T00:00:0$((i % 10)).000Z\"}"
done
for i in 5001 5002 5003; do
  api POST "$js/invoices" "{\"id\": $i, \"customer_id\": \"cus_1\", \"total\": 5, \"currency\": \"EUR\", \"updated_at\": \"2026-06-02T00:00:00.000Z\"}"
done
sync_json js >"$work/js2.json"
# The watermark is inclusive: the record that set it (invoice 5000) comes back, unchanged.
check "json-server incremental: fetched, inserted, updated, unchanged" \
  "$(json_eval "d['fetched'], d['inserted'], d['updated'], d['unchanged']" <"$work/js2.json")" "(11, 3, 7, 1)"
check "json-server incremental: total from X-Total-Count of the filtered list" \
  "$(json_eval "d['total']" <"$work/js2.json")" 11
check "json-server incremental: asked with updated_at_gte" \
  "$(served "^GET /invoices?_page=1&_limit=500&updated_at_gte=2026-01-01T01:23:20.000Z 200 ")" 1
check "json-server: records stored after the incremental run" "$("$bin" records js --json | wc -l)" $((N + 3))
sync_json js >"$work/js3.json"
check "json-server: a run with nothing new fetches only the boundary record" \
  "$(json_eval "d['fetched'], d['inserted'], d['updated']" <"$work/js3.json")" "(3, 0, 0)"

# --- Python's http.server: a static file, If-Modified-Since, 304 --------------------------------
write_rates() {  # write_rates COUNT CHANGED_RATE UPDATED_AT: the file, its mtime = newest record
  python3 - "$work/static/rates.json" "$@" <<'EOF'
import json, sys
n, changed, newest = int(sys.argv[2]), sys.argv[3], sys.argv[4]
rates = [{"id": "EUR-C%02d" % i, "currency": "C%02d" % i, "rate": 1 + i / 100,
          "updated_at": "2026-11-20T16:00:00.000Z"} for i in range(n)]
if changed != "-":
    rates[0].update(rate=float(changed), updated_at=newest)
for r in rates[30:]:
    r["updated_at"] = newest
json.dump(rates, open(sys.argv[1], "w"))
EOF
  touch -d "$3" "$work/static/rates.json"
}
write_rates 30 - "2026-11-20T16:00:00.000Z"
st_port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$work/static" "$st_port" >"$work/http-server.log" 2>&1 &
pids+=($!)
wait_for "http.server" answers "http://127.0.0.1:$st_port/rates.json"
cat >"$work/static-streams.json" <<'EOF'
[{"name": "rates", "path": "/rates.json", "entity": "fx_rate",
  "records": "", "id": "/id", "updated_at": "/updated_at", "total": "",
  "required": ["/currency", "/rate"],
  "incremental": {"header": "If-Modified-Since", "format": "http_date"},
  "pagination": {"style": "none"},
  "page_size": {"param": "", "value": 500}}]
EOF
"$bin" add files --connector rest --base-url "http://127.0.0.1:$st_port" --api-key-file "$work/key" \
  --schedule manual --streams-file "$work/static-streams.json" --manual-burst 20 >/dev/null
sync_json files >"$work/st1.json"
check "http.server: first run imports the file" \
  "$(json_eval "d['status'], d['fetched'], d['inserted']" <"$work/st1.json")" "('ok', 30, 30)"
sync_json files >"$work/st2.json"
check "http.server: unchanged file -> 304 -> a clean run with zero records" \
  "$(json_eval "d['status'], d['fetched'], d['inserted'], d['updated']" <"$work/st2.json")" "('ok', 0, 0, 0)"
check "http.server: it did answer 304 to If-Modified-Since" "$(grep -c '"GET /rates.json HTTP/1.1" 304' "$work/http-server.log" || true)" 1
check "http.server: status active after a 304" "$("$bin" status files --json | json_eval "d['status']")" active
write_rates 32 1.5 "2026-11-21T09:30:00.000Z"
sync_json files >"$work/st3.json"
check "http.server: a changed file is fetched again" \
  "$(json_eval "d['status'], d['fetched'], d['inserted'], d['updated'], d['unchanged']" <"$work/st3.json")" "('ok', 32, 2, 1, 29)"
check "http.server: records stored" "$("$bin" records files --json | wc -l)" 32

echo "interop: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
