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

# OAuth sign-in, against the sandbox's authorization server: the generic rest kind with
# settings.oauth (the vendor kinds sign in the same way). `connect` with PKCE through the
# loopback redirect (a script plays the browser), a sync that needs a new access token (the
# sandbox expires them), client credentials, and a revoked grant making it Disconnected.
"$bin" sandbox --port 0 --records 30 --seed 7 >"$work/sandbox.log" 2>&1 &
pids+=($!)
wait_for "sandbox" grep -q "http://" "$work/sandbox.log"
sb_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sandbox.log")
sb="http://127.0.0.1:$sb_port"
"$bin" add crm --base-url "$sb" --schedule manual --manual-burst 20 --option oauth=true \
  --option client_id=xero-sandbox --option client_secret=xero-sandbox-secret \
  --option auth_base_url="$sb" >/dev/null 2>"$work/err"
check "add rest with oauth" $? 0
"$bin" sync crm --wait --json >"$work/o1.json" 2>/dev/null
"$bin" status crm >"$work/o1.txt"
check "not signed in: Disconnected, told to connect" \
  "$(grep -c 'run `ledgersync connect crm`' "$work/o1.txt")" 1

"$bin" connect crm --no-browser >"$work/connect.out" 2>&1 &
cpid=$!
wait_for "the authorize URL" grep -q "/oauth/authorize?" "$work/connect.out"
url=$(grep -o 'http://[^ ]*/oauth/authorize?[^ ]*' "$work/connect.out")
check "the URL asks for PKCE S256" "$(echo "$url" | grep -c 'code_challenge_method=S256')" 1
check "...and a loopback redirect" \
  "$(echo "$url" | grep -c 'redirect_uri=http%3A%2F%2F127.0.0.1%3A[0-9]*%2Fcallback')" 1
# The browser: follows the sandbox's consent redirect to the CLI's loopback listener.
python3 -c "import sys, urllib.request as u; o = u.build_opener(u.ProxyHandler({}))
print(o.open(sys.argv[1]).read().decode())" \
  "$url" >"$work/page.html" 2>&1
wait "$cpid"
check "connect exits 0" $? 0
check "the browser is shown it worked" "$(grep -c 'Signed in' "$work/page.html")" 1
check "connect says the refresh token is stored" \
  "$(grep -c 'refresh token stored sealed' "$work/connect.out")" 1
check "the refresh token is never shown" \
  "$("$bin" show crm --json | grep -c 'rt_')" 0
"$bin" sync crm --wait --json >"$work/o2.json"
check "signed in, the sync inserts every record" "$(json_eval "d['inserted']" <"$work/o2.json")" 90
ctl "/_sandbox/oauth/expire"
ctl "/_sandbox/mutate?stream=customers&count=3"
"$bin" sync crm --wait --json >"$work/o3.json"
check "an expired access token is refreshed and the sync goes on" \
  "$(json_eval "d['status'] + ' ' + str(d['updated'])" <"$work/o3.json")" "ok 3"
check "the refresh is in the sync log" \
  "$("$bin" logs crm --json | grep -c '"token_refreshed"')" 1

"$bin" add cc --base-url "$sb" --schedule manual --option oauth=true \
  --option client_id=xero-sandbox --option client_secret=xero-sandbox-secret \
  --option auth_base_url="$sb" >/dev/null
"$bin" connect cc --client-credentials >"$work/cc.out" 2>&1
check "client credentials: connect with no browser" $? 0
"$bin" sync cc --wait --json >"$work/o4.json"
check "...and sync" "$(json_eval "d['status']" <"$work/o4.json")" ok

ctl "/_sandbox/oauth/revoke_all"
ctl "/_sandbox/oauth/expire"
"$bin" sync crm --wait --json >"$work/o5.json" 2>/dev/null
"$bin" status crm --json >"$work/o5s.json"
check "a revoked grant: Disconnected" "$(json_eval "d['status']" <"$work/o5s.json")" disconnected
check "...with the hint to connect again" "$(json_eval \
  "str('connect again' in d['last_error']['hint']) + ' ' + d['last_error']['action']['op']" \
  <"$work/o5s.json")" "True connect"
"$bin" connect plainish --no-browser >/dev/null 2>"$work/err"
check "connect of an unknown integration" $? 4

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
