#!/usr/bin/env bash
# The vendor connectors end to end through the real service: ecb_fx reading the ECB's daily
# file from a file:// folder (the same code path as https, without the network), incremental by
# the newest day, its currencies filter and its setting checks.
# Waits below poll real processes (bounded); no behaviour under test depends on them.
set -uo pipefail
bin=$(readlink -f "$1")
fixtures=$(cd "$(dirname "$0")/fixtures" && pwd)
work=$(mktemp -d /tmp/ledgersync-connectors-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export LEDGERSYNC_DATA_DIR="$work/data"
on_wait_timeout() { tail -5 "$work/serve.log"; }
source "$(dirname "$0")/lib.sh"

"$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 >>"$work/serve.log" 2>&1 &
pids+=($!)
wait_for "service.json" test -s "$work/data/service.json"

mkdir -p "$work/rates"
cp "$fixtures/ecb/eurofxref-daily.xml" "$work/rates/"
base="file://$work/rates"

check "connectors lists ecb_fx" \
  "$("$bin" connectors | grep -c '^ecb_fx  *ECB euro reference rates  *fx_rates')" 1
"$bin" add fx --connector ecb_fx --base-url "$base" --option history=weekly >/dev/null 2>"$work/err"
check "a bad history is refused" $? 2
check "...naming it" "$(grep -c 'settings.history must be one of daily, 90d' "$work/err")" 1
"$bin" add fx --connector ecb_fx --base-url "$base" --option 'currencies=["USD","EUX"]' \
  >/dev/null 2>"$work/err"
check "an unknown currency is refused" $? 2
check "...naming it" "$(grep -c '"EUX" is not an ISO 4217 currency code' "$work/err")" 1

# No API key: the ECB's files are public.
"$bin" add fx --connector ecb_fx --base-url "$base" --schedule manual --manual-burst 20 \
  >/dev/null 2>"$work/err"
check "add ecb_fx without a key" $? 0
"$bin" test fx --json >"$work/test.json" 2>&1
check "test reads the file" "$(json_eval "d['ok']" <"$work/test.json")" True
"$bin" sync fx --wait --json >"$work/sync1.json"
check "the first sync inserts one rate per currency" \
  "$(json_eval "d['inserted']" <"$work/sync1.json")" 30
"$bin" records fx --json >"$work/records.json"
check "30 records stored" "$(wc -l <"$work/records.json")" 30
check "stored canonical: entity, id, rate as published" "$(python3 -c "
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r['id'] == 'ecb:2026-11-24:EUR:SEK':
        body = r['record']
        print(body['entity'], body['fields']['rate'], body['fields']['date'], r['updated_at'])
" "$work/records.json")" "fx_rate 11.5440 2026-11-24 2026-11-24T00:00:00Z"

"$bin" sync fx --wait --json >"$work/sync2.json"
check "the same file again writes nothing" \
  "$(json_eval "d['inserted'] + d['updated']" <"$work/sync2.json")" 0

# The next day's file: only its rates are new.
sed "s/2026-11-24/2026-11-25/" "$fixtures/ecb/eurofxref-daily.xml" \
  >"$work/rates/eurofxref-daily.xml"
"$bin" sync fx --wait --json >"$work/sync3.json"
check "a new day inserts its rates" "$(json_eval "d['inserted']" <"$work/sync3.json")" 30
check "60 records stored" "$("$bin" records fx --json | wc -l)" 60

"$bin" add usd --connector ecb_fx --base-url "$base" --schedule manual \
  --option 'currencies=["USD","GBP"]' >/dev/null
"$bin" sync usd --wait --json >"$work/sync4.json"
check "the currencies filter keeps two" "$(json_eval "d['inserted']" <"$work/sync4.json")" 2

rm "$work/rates/eurofxref-daily.xml"
"$bin" sync usd --wait --json >"$work/sync5.json" 2>&1
check "a missing file fails the run" "$(json_eval "d['status']" <"$work/sync5.json")" failed

# stripe: its streams and settings are listed; a bad pinned version is refused on save.
check "connectors stripe shows its streams and settings" \
  "$("$bin" connectors stripe |
    grep -cE '^  (stripe_version|mode|customers|balance_transactions) ')" 4
echo "sk_test_x" >"$work/key"
"$bin" add pay --connector stripe --base-url https://api.stripe.com --api-key-file "$work/key" \
  --schedule manual --option stripe_version=latest >/dev/null 2>"$work/err"
check "a bad stripe_version is refused" $? 2
check "...naming it" "$(grep -c 'settings.stripe_version must be a date YYYY-MM-DD' "$work/err")" 1

# xero against `ledgersync sandbox`: the token from its OAuth server's client-credentials grant
# (no sign-in flow), the tenant id from its control API; paging to the end, then an incremental
# second run that fetches only what changed.
"$bin" sandbox --port 0 --records 250 --seed 7 >"$work/sandbox.log" 2>&1 &
pids+=($!)
wait_for "sandbox" grep -q "http://" "$work/sandbox.log"
sb_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sandbox.log")
sb="http://127.0.0.1:$sb_port"
python3 - "$sb" >"$work/xero-token" <<'PY'
import json, sys, urllib.request, urllib.parse
form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "xero-sandbox",
                               "client_secret": "xero-sandbox-secret"}).encode()
print(json.load(urllib.request.urlopen(sys.argv[1] + "/oauth/token", form))["access_token"])
PY
tenant=$(python3 -c "import json,sys,urllib.request
print(json.load(urllib.request.urlopen(sys.argv[1] + '/_sandbox/xero/tenant'))['tenant_id'])" "$sb")
check "connectors lists xero" "$("$bin" connectors | grep -c '^xero  *Xero ')" 1
check "connectors xero shows its default and shared rates" \
  "$("$bin" connectors xero | grep -cE '^(Requests: 60 per minute|Shared: 10000 per minute)')" 2
check "stripe's follows its mode" "$("$bin" connectors stripe | grep -c '^Requests: 25 per second')" 1
"$bin" add books --connector xero --base-url "$sb/xero/api.xro/2.0" \
  --api-key-file "$work/xero-token" --schedule manual >/dev/null 2>"$work/err"
check "xero without a tenant id is refused" $? 2
check "...naming it" "$(grep -c 'settings.tenant_id is required for xero' "$work/err")" 1
"$bin" add books --connector xero --base-url "$sb/xero/api.xro/2.0" \
  --api-key-file "$work/xero-token" --schedule manual --manual-burst 20 \
  --option tenant_id=00000000-0000-0000-0000-000000000000 >/dev/null
"$bin" test books --json >"$work/xtest.json" 2>&1
check "a wrong tenant id fails the test" "$(json_eval "d['ok']" <"$work/xtest.json")" False
check "...saying to fix the tenant id" \
  "$(json_eval "'settings.tenant_id must be the tenant id' in d['hint']" <"$work/xtest.json")" True
"$bin" configure books --option "tenant_id=$tenant" >/dev/null
"$bin" test books --json >"$work/xtest.json" 2>&1
check "the right one passes" "$(json_eval "d['ok']" <"$work/xtest.json")" True
"$bin" sync books --wait --json >"$work/xsync1.json"
check "the first xero sync succeeds" "$(json_eval "d['status']" <"$work/xsync1.json")" ok
"$bin" records books --stream invoices --json >"$work/xinv.json"
# 250 invoices on three pages; the sandbox voids or deletes 1 in 10: tombstones, not records.
check "every live invoice stored, paging to the end" "$(wc -l <"$work/xinv.json")" 225
check "...canonical, from Xero's wire format" "$(python3 -c "
import json, sys
r = json.loads(open(sys.argv[1]).readline())['record']
print(r['entity'], r['source'], r['fields']['issue_date'][4], r['raw']['Date'][:6])
" "$work/xinv.json")" "invoice xero:Invoice - /Date("
check "12 accounts, unpaged" "$("$bin" records books --stream accounts --json | wc -l)" 12
ctl "/_sandbox/mutate?stream=xero/Invoices&count=3"
"$bin" sync books --wait --json >"$work/xsync2.json"
check "the second xero sync updates only the three changed invoices" \
  "$(json_eval "(d['inserted'], d['updated'], d['deleted'])" <"$work/xsync2.json")" "(0, 3, 0)"
check "...fetching only what changed since (If-Modified-Since)" \
  "$(json_eval "d['fetched'] < 20" <"$work/xsync2.json")" True

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
