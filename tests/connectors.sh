#!/usr/bin/env bash
# The vendor connectors end to end through the real service: ecb_fx reading the ECB's daily
# file from a file:// folder (the same code path as https, without the network), incremental by
# the newest day, its currencies filter and its setting checks; odata against the sandbox's OData
# service; bank_statement on a drop folder the sandbox writes statements into.
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

# odata and bank_statement against the sandbox: its OData service, and statement files it writes
# into a drop folder on request.
mkdir -p "$work/drop"
"$bin" sandbox --port 0 --records 50 --seed 7 --statements-dir "$work/drop" \
  >"$work/sandbox.log" 2>&1 &
pids+=($!)
wait_for "sandbox" grep -q "http://" "$work/sandbox.log"
sb_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sandbox.log")
ctl() { curl -sf -X POST "http://127.0.0.1:$sb_port$1" >/dev/null; }

cat >"$work/sets.json" <<'JSON'
[{"name": "Customers", "entity": "customer", "modified_field": "Modified", "id_field": "No",
  "field_map": {"fields": {"name": "Name", "email": "Email", "currency": "CurrencyCode"},
                "deleted": "IsDeleted"}}]
JSON
echo "sk_test_sandbox" >"$work/key"
"$bin" add erp --connector odata --base-url "http://127.0.0.1:$sb_port/odata" \
  --api-key-file "$work/key" --schedule manual --manual-burst 20 \
  --option 'entity_sets=[{"name":"Customers"}]' >/dev/null 2>"$work/err"
check "an entity set without a modified field is refused" $? 2
check "...naming it" \
  "$(grep -c 'settings.entity_sets\[0\].modified_field is required' "$work/err")" 1
"$bin" add erp --connector odata --base-url "http://127.0.0.1:$sb_port/odata" \
  --api-key-file "$work/key" --schedule manual --manual-burst 20 \
  --option entity_sets=@"$work/sets.json" --option max_page_size=20 >/dev/null 2>"$work/err"
check "add odata" $? 0
check "connectors lists odata" "$("$bin" connectors | grep -c '^odata  *OData v4 service')" 1
"$bin" test erp --json >"$work/test.json" 2>&1
check "odata test reads the service document" "$(json_eval "d['ok']" <"$work/test.json")" True
"$bin" sync erp --wait --json >"$work/sync1.json"
check "odata: every customer, page by page" "$(json_eval "d['inserted']" <"$work/sync1.json")" 50
ctl "/_sandbox/mutate?stream=odata/Customers&count=3"
"$bin" sync erp --wait --json >"$work/sync2.json"
check "odata: the next sync fetches only the changes" \
  "$(json_eval "(d['inserted'], d['updated'], d['unchanged'])" <"$work/sync2.json")" "(0, 3, 0)"

check "connectors lists bank_statement" \
  "$("$bin" connectors | grep -c '^bank_statement  *Bank statements (camt.053, MT940)')" 1
"$bin" add bank --connector bank_statement --option folder=drop --schedule manual \
  >/dev/null 2>"$work/err"
check "a relative folder is refused" $? 2
check "...naming it" "$(grep -c 'settings.folder must be an absolute path' "$work/err")" 1
"$bin" add bank --connector bank_statement --option folder="$work/drop" --schedule manual \
  --manual-burst 20 >/dev/null
"$bin" test bank --json >"$work/test.json" 2>&1
check "bank test proves the folder" "$(json_eval "d['ok']" <"$work/test.json")" True
ctl "/_sandbox/statements?format=camt053&n=1"
ctl "/_sandbox/statements?format=mt940&n=2"
ctl "/_sandbox/statements?format=malformed&n=3"
"$bin" sync bank --wait --json >"$work/sync1.json"
check "two statements: 3 entries and 2 balances each" \
  "$(json_eval "(d['status'], d['inserted'])" <"$work/sync1.json")" "('ok', 10)"
check "read files moved to processed/" "$(ls "$work/drop/processed" | tr '\n' ' ')" \
  "stmt-1.xml stmt-2.sta "
check "the malformed one to rejected/" "$(ls "$work/drop/rejected")" "stmt-3-broken.xml"
check "nothing left in the folder" "$(ls "$work/drop" | tr '\n' ' ')" "processed rejected "
"$bin" logs bank --json >"$work/logs.json"
check "the parse error is in the sync log" \
  "$(grep -c '"event":"rejected".*stmt-3-broken.xml moved to rejected/: camt.053' "$work/logs.json")" 1
"$bin" records bank --json >"$work/records.json"
check "6 entries and 4 balances stored" "$(python3 -c "
import collections, json, sys
print(sorted(collections.Counter(json.loads(l)['record']['entity'] for l in open(sys.argv[1])).items()))
" "$work/records.json")" "[('balance', 4), ('bank_transaction', 6)]"
ctl "/_sandbox/statements?format=camt053&n=1"
"$bin" sync bank --wait --json >"$work/sync2.json"
check "the same statement again changes nothing" \
  "$(json_eval "(d['inserted'], d['updated'], d['unchanged'])" <"$work/sync2.json")" "(0, 0, 5)"
check "...and is kept beside the first" "$(ls "$work/drop/processed" | tr '\n' ' ')" \
  "stmt-1.2.xml stmt-1.xml stmt-2.sta "

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
