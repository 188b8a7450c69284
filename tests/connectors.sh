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
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
export LEDGERSYNC_DATA_DIR="$work/data"
on_wait_timeout() { tail -5 "$work/serve.log"; }
source "$(dirname "$0")/lib.sh"
# Starts `ledgersync sandbox` with ARGS on a free port; sets sb_port and sb. The log is emptied
# here rather than by the background job's own redirect, which may come only after the wait
# has read the previous section's sandbox line, and so its port.
start_sandbox() {
  : >"$work/sandbox.log"
  "$bin" sandbox --port 0 "$@" >"$work/sandbox.log" 2>&1 &
  pids+=($!)
  wait_for "sandbox" grep -qE "http://127.0.0.1:[0-9]+ " "$work/sandbox.log"
  sb_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sandbox.log" | head -1)
  sb="http://127.0.0.1:$sb_port"
}

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
start_sandbox --records 250 --seed 7
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
# Two of the day's calls left: the run stops once an answer says X-DayLimit-Remaining: 0, before
# Xero would refuse one, and a sync by hand is refused until syncs resume.
ctl "/_sandbox/xero/fault?kind=day_remaining&count=2"
"$bin" sync books --wait --json >"$work/xsync3.json" 2>&1
check "xero: the day's quota spent ends the run as rate_limited" \
  "$(json_eval "(d['status'], d['fetched'] < 20, 'daily limit of 5,000' in str(d))" \
    <"$work/xsync3.json")" "('failed', True, True)"
"$bin" sync books >/dev/null 2>"$work/err"
check "...and holds Sync now" $? 3
check "...saying when syncs resume" "$(grep -c 'syncs resume at' "$work/err")" 1
# sage and quickbooks against `ledgersync sandbox`: an access token from the sandbox's OAuth
# server (client credentials), paging to the end, then an incremental second run that fetches
# only what changed and turns deletions into tombstones.
start_sandbox --records 45 --seed 3
token() {  # token CLIENT SECRET: an access token by the client credentials grant
  curl -s -X POST "$sb/oauth/token" -d grant_type=client_credentials -d "client_id=$1" \
    -d "client_secret=$2" | json_eval "d['access_token']"
}
requests() { curl -s -X POST "$sb/_sandbox/stats" | json_eval "d['requests']"; }

token sage-sandbox sage-sandbox-secret >"$work/sage-token"
business=$(curl -s -X POST "$sb/_sandbox/sage/business" | json_eval "d['business_id']")
check "connectors lists sage" \
  "$("$bin" connectors | grep -c '^sage  *Sage Accounting  *contacts')" 1
"$bin" add sagebooks --connector sage --base-url "$sb/sage/v3.1" --api-key-file "$work/sage-token" \
  --schedule manual --manual-burst 20 >/dev/null 2>"$work/err"
check "sage without business_id is refused" $? 2
check "...naming it" "$(grep -c 'settings.business_id is required for sage' "$work/err")" 1
"$bin" add sagebooks --connector sage --base-url "$sb/sage/v3.1" --api-key-file "$work/sage-token" \
  --schedule manual --manual-burst 20 --option "business_id=$business" \
  --option items_per_page=10 >/dev/null
"$bin" test sagebooks --json >"$work/test.json" 2>&1
check "sage: test passes" "$(json_eval "d['ok']" <"$work/test.json")" True
before=$(requests)
"$bin" sync sagebooks --wait --json >"$work/sage1.json"
# 45 contacts, invoices and payments, 2 bank accounts, 8 ledger accounts; 10 a page: 5 + 5 +
# 5 + 1 + 1 pages, every $next followed to the end.
check "sage: the first sync pages to the end" \
  "$(json_eval "(d['status'], d['inserted'])" <"$work/sage1.json")" "('ok', 145)"
check "sage: ...in 17 requests" "$(($(requests) - before))" 17
check "sage: records are canonical" "$("$bin" records sagebooks --json | python3 -c "
import json, sys
kinds = {}
for line in sys.stdin:
    r = json.loads(line)
    kinds[r['record']['entity']] = kinds.get(r['record']['entity'], 0) + 1
print(sorted(kinds.items()))")" \
  "[('customer', 45), ('gl_account', 10), ('invoice', 45), ('payment', 45)]"
curl -s -X POST "$sb/_sandbox/mutate?stream=sage/contacts&count=3" >/dev/null
curl -s -X POST "$sb/_sandbox/remove?stream=sage/sales_invoices&count=2" >/dev/null
before=$(requests)
"$bin" sync sagebooks --wait --json >"$work/sage2.json"
check "sage: the second sync writes only the changes" \
  "$(json_eval "(d['inserted'], d['updated'], d['deleted'])" <"$work/sage2.json")" "(0, 3, 2)"
check "sage: ...fetching few records" "$(json_eval "d['fetched'] <= 12" <"$work/sage2.json")" True
# Each stream: one page of changes and one of deletions.
check "sage: ...in 10 requests" "$(($(requests) - before))" 10
check "sage: 143 records left" "$("$bin" records sagebooks --json | wc -l)" 143

token quickbooks-sandbox quickbooks-sandbox-secret >"$work/qbo-token"
realm=$(curl -s -X POST "$sb/_sandbox/quickbooks/realm" | json_eval "d['realm']")
check "connectors lists quickbooks" \
  "$("$bin" connectors | grep -c '^quickbooks  *QuickBooks Online  *customers')" 1
"$bin" add qb --connector quickbooks --base-url "$sb/quickbooks/v3/company" \
  --api-key-file "$work/qbo-token" --schedule manual --manual-burst 20 \
  --option "realm_id=$realm" --option max_results=10 >/dev/null
"$bin" show qb --json >"$work/show.json"
# Digits are text where the kind says text (realm_id), a number where it says integer.
check "quickbooks: --option realm_id=DIGITS is the realm id" \
  "$(json_eval "(d['config']['settings']['realm_id'], d['config']['settings']['max_results'])" \
    <"$work/show.json")" "('$realm', 10)"
"$bin" configure qb --option "realm_id=$realm" >/dev/null
check "quickbooks: ...on configure too (the kind comes from the service)" $? 0
check "quickbooks: the request rate defaults to 500 a minute" \
  "$("$bin" connectors quickbooks | grep -c '^Requests: 500 per minute')" 1
check "...which the integration does not copy (the kind's default applies)" \
  "$(json_eval "'upstream_rate_per_s' in d['config']" <"$work/show.json")" False
"$bin" test qb --json >"$work/test.json" 2>&1
check "quickbooks: test passes" "$(json_eval "d['ok']" <"$work/test.json")" True
before=$(requests)
"$bin" sync qb --wait --json >"$work/qbo1.json"
# Four entities of 45, 10 a page: 5 query pages and one CDC request each.
check "quickbooks: the first sync pages to the end" \
  "$(json_eval "(d['status'], d['inserted'])" <"$work/qbo1.json")" "('ok', 180)"
check "quickbooks: ...in 24 requests" "$(($(requests) - before))" 24
curl -s -X POST "$sb/_sandbox/mutate?stream=quickbooks/Invoice&count=3" >/dev/null
curl -s -X POST "$sb/_sandbox/remove?stream=quickbooks/Payment&count=2" >/dev/null
"$bin" sync qb --wait --json >"$work/qbo2.json"
check "quickbooks: the second sync writes only the changes, CDC's deletions as tombstones" \
  "$(json_eval "(d['inserted'], d['updated'], d['deleted'])" <"$work/qbo2.json")" "(0, 3, 2)"
check "quickbooks: ...fetching few records" \
  "$(json_eval "d['fetched'] <= 20" <"$work/qbo2.json")" True
curl -s -X POST "$sb/_sandbox/quickbooks/fault?kind=fault_in_200&count=1" >/dev/null
"$bin" sync qb --wait --json >"$work/qbo3.json" 2>&1
check "quickbooks: a Fault inside a 200 is retried, and the run succeeds" \
  "$(json_eval "(d['status'], d['inserted'] + d['updated'])" <"$work/qbo3.json")" "('ok', 0)"
# odata and bank_statement against the sandbox: its OData service, and statement files it writes
# into a drop folder on request.
mkdir -p "$work/drop"
start_sandbox --records 50 --seed 7 --statements-dir "$work/drop"
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
# Editing entity_sets changes the streams: a new set is read in full, the kept one goes on
# incrementally from its cursor, a removed one stops and its records stay.
cat >"$work/sets2.json" <<'JSON'
[{"name": "Customers", "entity": "customer", "modified_field": "Modified", "id_field": "No",
  "field_map": {"fields": {"name": "Name", "email": "Email", "currency": "CurrencyCode"},
                "deleted": "IsDeleted"}},
 {"name": "Invoices", "entity": "invoice", "modified_field": "Modified", "id_field": "No",
  "field_map": {"deleted": "IsDeleted", "fields": {"customer_id": "/Customer/No", "number": "No",
    "currency": "CurrencyCode", "total": "AmountIncludingVAT", "amount_due": "RemainingAmount",
    "issue_date": "DocumentDate", "due_date": "DueDate", "status": "Status"}}}]
JSON
"$bin" configure erp --option entity_sets=@"$work/sets2.json" >"$work/cfg.out" 2>&1
check "configure adds the Invoices set" $? 0
check "...and says its next sync reads it in full" \
  "$(grep -c '^stream Invoices: added (its next sync reads it in full)' "$work/cfg.out")" 1
check "the streams are the sets" \
  "$("$bin" show erp --json | json_eval "[s['name'] for s in d['config']['streams']]")" \
  "['Customers', 'Invoices']"
ctl "/_sandbox/mutate?stream=odata/Customers&count=2"
"$bin" sync erp --wait --json >"$work/sync3.json"
check "odata: every invoice, and only the changed customers" \
  "$(json_eval "(d['status'], d['inserted'], d['updated'])" <"$work/sync3.json")" "('ok', 50, 2)"
check "...the invoices stored as invoices" \
  "$("$bin" records erp --entity invoice --limit 100 --json | grep -c '"entity":"invoice"')" 50
"$bin" configure erp --option 'entity_sets=[{"name":"Invoices","entity":"invoice","modified_field":"Modified","id_field":"No","field_map":{"deleted":"IsDeleted","fields":{"customer_id":"/Customer/No","number":"No","currency":"CurrencyCode","total":"AmountIncludingVAT","amount_due":"RemainingAmount","issue_date":"DocumentDate","due_date":"DueDate","status":"Status"}}}]' \
  >"$work/cfg.out" 2>&1
check "configure removes the Customers set" $? 0
check "...and says its records are kept" \
  "$(grep -c 'no longer synced: Customers; their records are kept' "$work/cfg.out")" 1
ctl "/_sandbox/mutate?stream=odata/Customers&count=2"
ctl "/_sandbox/mutate?stream=odata/Invoices&count=4"
"$bin" sync erp --wait --json >"$work/sync4.json"
check "odata: only the kept set's changes, incrementally" \
  "$(json_eval "(d['status'], d['inserted'], d['updated'], d['fetched'])" <"$work/sync4.json")" \
  "('ok', 0, 4, 4)"
check "the removed set's records stay readable" \
  "$("$bin" records erp --stream Customers --limit 100 --json | grep -c '"entity":"customer"')" 50

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
# By entity: balances share the statements' stream with the entries, each record says which.
check "records --entity balance finds the balances" \
  "$("$bin" records bank --entity balance --json | grep -c '"entity":"balance"')" 4
check "...and only them" "$("$bin" records bank --entity balance --json | wc -l)" 4
check "records --entity bank_transaction finds only the entries" \
  "$("$bin" records bank --entity bank_transaction --json | grep -c '"entity":"bank_transaction"')" 6
check "...and only them" "$("$bin" records bank --entity bank_transaction --json | wc -l)" 6
ctl "/_sandbox/statements?format=camt053&n=1"
"$bin" sync bank --wait --json >"$work/sync2.json"
check "the same statement again changes nothing" \
  "$(json_eval "(d['inserted'], d['updated'], d['unchanged'])" <"$work/sync2.json")" "(0, 0, 5)"
check "...and is kept beside the first" "$(ls "$work/drop/processed" | tr '\n' ' ')" \
  "stmt-1.2.xml stmt-1.xml stmt-2.sta "

# `ledgersync demo`: an integration of each kind against its in-process sandbox; every vendor
# kind's first sync succeeds (the bank statements' from the drop folder the demo fills).
"$bin" demo --data-dir "$work/demo" --records 50 >"$work/demo.log" 2>&1 &
pids+=($!)
wait_for "the demo's service" test -s "$work/demo/service.json"
demo_synced() {  # every vendor integration has a successful sync
  LEDGERSYNC_DATA_DIR="$work/demo" "$bin" list --json | python3 -c "
import json, sys
d = {s['name']: s for s in json.load(sys.stdin)}
vendor = ['ecb-rates', 'stripe-payments', 'erp-odata', 'bank-statements', 'xero-books']
sys.exit(0 if all(d.get(n, {}).get('last_sync') for n in vendor) else 1)"
}
wait_for "the demo's vendor integrations to sync" demo_synced
check "the demo has an integration of each kind" "$(LEDGERSYNC_DATA_DIR="$work/demo" "$bin" list --json |
  python3 -c "
import json, sys
print(len(json.load(sys.stdin)))")" 10
check "the demo's bank statements were imported from its drop folder" \
  "$(ls "$work/demo/demo-drop/processed" | wc -l)" 2
demo_status() { LEDGERSYNC_DATA_DIR="$work/demo" "$bin" status "$1"; }
wait_for "sage-books to ask for a sign-in" \
  bash -c "$(declare -f demo_status); work='$work' bin='$bin'; demo_status sage-books |
    grep -q 'ledgersync connect sage-books'"
check "the demo's quickbooks waits for a sign-in too" \
  "$(demo_status quickbooks-books | grep -c 'Disconnected')" 1

# OAuth sign-in, against the sandbox's authorization server: the generic rest kind with
# settings.oauth (the vendor kinds sign in the same way). `connect` with PKCE through the
# loopback redirect (a script plays the browser), a sync that needs a new access token (the
# sandbox expires them), client credentials, and a revoked grant making it Disconnected.
start_sandbox --records 30 --seed 7
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

# A vendor kind signs in the same way once it names its app: xero by client credentials (a
# custom connection), against the sandbox's Xero API.
xtenant=$(curl -s "$sb/_sandbox/xero/tenant" | json_eval "d['tenant_id']")
"$bin" add xcc --connector xero --base-url "$sb/xero/api.xro/2.0" --schedule manual \
  --manual-burst 20 --option "tenant_id=$xtenant" --option client_id=xero-sandbox \
  --option client_secret=xero-sandbox-secret --option auth_base_url="$sb" >/dev/null
check "xero: connect by client credentials" \
  "$("$bin" connect xcc --client-credentials >/dev/null 2>&1; echo $?)" 0
"$bin" sync xcc --wait --json >"$work/xcc.json"
check "xero: ...and a sync with the access token it got" \
  "$(json_eval "(d['status'], d['inserted'] > 0)" <"$work/xcc.json")" "('ok', True)"

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
