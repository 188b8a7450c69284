#!/usr/bin/env bash
# The push crash test: files of customers of varying size are pushed to a Stripe integration
# (idempotency key) and a Sage one (no key: a resumed create looks the record up by its
# reference first), and to Sage invoices of earlier customers by customer_external_id, while
# the service is killed with kill -9 at random points — during acceptance, while items are
# sent — and restarted, with the sandbox's write_lost / write_500 faults armed so that many
# items are resumed after an unanswered write. Once no item is open, per vendor and entity:
#   - every item has a final status, and each external id's newest item succeeded with a vendor id;
#   - the sandbox's effect log shows exactly one create per external id and no update (every
#     item here is a create; a resumed one is re-sent under its key or found by its reference);
#   - the vendor's own list (its API, not the effect log) holds exactly one record per external
#     id, and its id is the vendor id we stored: none lost, none made twice; each Sage invoice
#     names the contact its customer's push made.
# A push killed before it answered is pushed again only when none of its items was accepted
# (acceptance is all or none), so each external id has one item.
# Kill points come from a seeded RNG; the seed is printed so a failure can be replayed (the
# timing of real processes makes a replay close, not exact).
# Usage: push_crash.sh path/to/ledgersync [--kills N] [--pushes N] [--seed S]
#   CI runs the short form (10 kills, 150 customers per vendor); the long form, by hand, is
#   `--kills 100 --pushes 1000` (minutes: Sage takes 200 requests a minute, so its 429s and
#   Retry-After are part of that run).
set -euo pipefail
bin=$(readlink -f "$1")
shift
kills=10
pushes=150
seed=$(((RANDOM << 15) | RANDOM))
while [ $# -gt 0 ]; do
  case $1 in
    --kills) kills=${2-}; shift; shift || true ;;
    --pushes) pushes=${2-}; shift; shift || true ;;
    --seed) seed=${2-}; shift; shift || true ;;
    *) echo "usage: push_crash.sh LEDGERSYNC [--kills N] [--pushes N] [--seed S]" >&2; exit 2 ;;
  esac
done
[[ $kills =~ ^[1-9][0-9]*$ && $seed =~ ^[0-9]+$ && $pushes =~ ^[1-9][0-9]*$ ]] ||
  { echo "push_crash.sh: --kills, --pushes and --seed take whole numbers (kills, pushes >= 1)" >&2
    exit 2; }
RANDOM=$seed
echo "push crash test: $kills kills, $pushes customers per vendor, seed $seed"
echo "  (replay: tests/push_crash.sh LEDGERSYNC --kills $kills --pushes $pushes --seed $seed)"

work=$(mktemp -d /tmp/ledgersync-pcrash-XXXXXX)
# Only live processes of ours are killed at the end: a pid of a service killed earlier may belong
# to someone else's process by then.
svc=""
sandbox=""
pusher=""
cleanup() {
  for p in $pusher $svc $sandbox; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -z "${PUSH_CRASH_KEEP-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
export LEDGERSYNC_DATA_DIR="$work/data"
unset LEDGERSYNC_TIMEOUT
# Sage takes 200 requests a minute (about 120 items a minute, with lookups, retries and the
# streams a run reads): the last items of a long form wait their turn.
WAIT_SECONDS=$((120 + pushes))
source "$(dirname "$0")/lib.sh"
on_wait_timeout() { tail -5 "$work/serve.log"; }
start_service() {
  rm -f "$work/data/service.json"
  "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 >>"$work/serve.log" 2>&1 &
  svc=$!
  wait_for "service.json" test -s "$work/data/service.json"
}
vendors=(stripe sage)
# The sandbox's Sage access tokens last 5 minutes, as Sage's do (and the sage kind signs in with
# a browser only): a long form gives the integration a fresh one after each restart.
renew_sage_token() {
  curl -s -X POST "$sb/oauth/token" -d grant_type=client_credentials -d client_id=sage-sandbox \
    -d client_secret=sage-sandbox-secret |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' >"$work/sage-token"
  "$bin" configure pc-sage --api-key-file "$work/sage-token" >/dev/null
}
# The outbox's counts of one integration: "open N" (pending + sending) and the rest.
counts() {
  "$bin" pushes "pc-$1" --limit 1 --json >/dev/null  # the service answers
  "$bin" pushes "pc-$1" --json | python3 -c '
import collections, json, sys
c = collections.Counter(json.loads(l)["status"] for l in sys.stdin if l.strip())
print("open", c["pending"] + c["sending"], dict(c))'
}
# Open items are sent by a run: the restarted service starts one for them. Should a failed run
# have held them for its retry timer, a sync every 15 s asks again (a sync reads the streams
# too, which costs Sage's requests: 200 a minute).
nudged=$SECONDS
none_open() {
  for v in "${vendors[@]}"; do
    if [ "$(counts "$v" | awk '{print $2}')" != 0 ]; then
      if [ $((SECONDS - nudged)) -ge 15 ]; then
        # A long drain outlives the Sage token given at the last restart.
        if [ "$v" = sage ]; then renew_sage_token; fi
        "$bin" sync "pc-$v" >/dev/null 2>&1 || true
        nudged=$SECONDS
      fi
      return 1
    fi
  done
}

"$bin" sandbox --port 0 --records 5 --seed 7 >"$work/sandbox.log" 2>&1 &
sandbox=$!
wait_for "sandbox" grep -q "http://" "$work/sandbox.log"
sb_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sandbox.log")
sb="http://127.0.0.1:$sb_port"
start_service
echo "sk_test_sandbox" >"$work/stripe-key"
python3 - "$sb" "$work" <<'PY'
import json, sys, urllib.parse, urllib.request
sb, work = sys.argv[1], sys.argv[2]
form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "sage-sandbox",
                               "client_secret": "sage-sandbox-secret"}).encode()
tok = json.load(urllib.request.urlopen(sb + "/oauth/token", form, timeout=30))["access_token"]
open(work + "/sage-token", "w").write(tok + "\n")
biz = json.load(urllib.request.urlopen(urllib.request.Request(
    sb + "/_sandbox/sage/business", b"", method="POST"), timeout=30))["business_id"]
open(work + "/sage-business", "w").write(biz)
ledgers = json.load(urllib.request.urlopen(urllib.request.Request(
    sb + "/sage/v3.1/ledger_accounts?items_per_page=200&attributes=all",
    headers={"Authorization": "Bearer " + tok, "X-Business": biz}), timeout=30))["$items"]
sales = [l["id"] for l in ledgers if (l.get("ledger_account_type") or {}).get("id") == "SALES"]
open(work + "/sage-ledger", "w").write(sales[0])
PY
ledger=$(cat "$work/sage-ledger")
rate=(--schedule manual --manual-burst 100 --upstream-rate 1000 --upstream-burst 100)
"$bin" add pc-stripe --connector stripe --base-url "$sb/stripe" \
  --api-key-file "$work/stripe-key" "${rate[@]}" >/dev/null
"$bin" add pc-sage --connector sage --base-url "$sb/sage/v3.1" --api-key-file "$work/sage-token" \
  --option "business_id=$(cat "$work/sage-business")" "${rate[@]}" >/dev/null

# One file per kill, sizes from 1 to twice the mean, so that about `kills` of them push
# `pushes` (the count of kills varies with the draw: the test prints it). Each round also pushes
# to Sage an invoice for every other customer of the round before, by customer_external_id
# (Stripe takes customers only): accepted after its customer, so sent after it too.
mean=$(((pushes + kills - 1) / kills))
next=1
round=0
invoices=0
inv_from=0
inv_to=0
started=$SECONDS
declare -A job_int job_entity job_file job_first job_pid
while [ "$next" -le "$pushes" ]; do
  round=$((round + 1))
  size=$((1 + RANDOM % (2 * mean - 1)))
  if [ $((next + size - 1)) -gt "$pushes" ]; then size=$((pushes - next + 1)); fi
  jobs=(stripe sage)
  for v in "${vendors[@]}"; do
    job_int[$v]="pc-$v"
    job_entity[$v]=customer
    job_file[$v]="$work/$v-$round.ndjson"
    job_first[$v]="PC-$next"
    : >"${job_file[$v]}"
  done
  for ((i = next; i < next + size; i++)); do
    line='{"external_id":"PC-'$i'","op":"create",'
    line+='"fields":{"name":"Push Crash '$i'","email":"pc'$i'@example.com"}}'
    for v in "${vendors[@]}"; do echo "$line" >>"${job_file[$v]}"; done
  done
  inv=""
  for ((i = inv_from; i < inv_to; i++)); do
    if [ $((i % 2)) -ne 0 ]; then continue; fi
    if [ -z "$inv" ]; then
      jobs+=(invoice)
      job_int[invoice]=pc-sage
      job_entity[invoice]=invoice
      job_file[invoice]="$work/invoice-$round.ndjson"
      job_first[invoice]="INV-$i"
      : >"${job_file[invoice]}"
    fi
    line='{"external_id":"INV-'$i'","op":"create","fields":{"customer_external_id":"PC-'$i'",'
    line+='"currency":"GBP","issue_date":"2026-11-01","due_date":"2026-12-01","lines":[{'
    line+='"description":"Membership '$i'","quantity":"2","unit_price":"60.05",'
    line+='"account_code":"'"$ledger"'"}]}}'
    echo "$line" >>"${job_file[invoice]}"
    inv=$((${inv:-0} + 1))
  done
  invoices=$((invoices + ${inv:-0}))
  inv_from=$next
  inv_to=$((next + size))
  next=$((next + size))
  armed=""
  for v in "${vendors[@]}"; do
    k=$((RANDOM % 3))
    if [ "$k" -eq 0 ]; then continue; fi
    kind=$([ "$k" -eq 1 ] && echo write_lost || echo write_500)
    n=$((1 + RANDOM % 3))
    ctl "/_sandbox/$v/fault?kind=$kind&count=$n"
    armed+=" $v:$kind×$n"
  done
  # The kill comes at a random point from acceptance to well into the sending of the file.
  delay_ms=$((RANDOM % (20 + 15 * size)))
  pusher=""
  for j in "${jobs[@]}"; do
    "$bin" push "${job_int[$j]}" --entity "${job_entity[$j]}" --file "${job_file[$j]}" \
      >"$work/push-$j.out" 2>&1 &
    job_pid[$j]=$!
    pusher+=" $!"
  done
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if ! kill -9 "$svc" 2>/dev/null; then
    echo "FAIL - the service (pid $svc) had stopped before kill $round; its log ends:"
    tail -5 "$work/serve.log"
    exit 1
  fi
  wait "$svc" 2>/dev/null || true
  svc=""
  # A push the kill cut off mid-call waits out its whole timeout (60 s; the CLI hears nothing of
  # the lost connection): one still running half a second after the kill is stopped.
  for _ in 1 2 3 4 5; do
    alive=0
    for p in $pusher; do if kill -0 "$p" 2>/dev/null; then alive=1; fi; done
    if [ "$alive" -eq 0 ]; then break; fi
    sleep 0.1
  done
  answered=""
  for j in "${jobs[@]}"; do
    kill -9 "${job_pid[$j]}" 2>/dev/null || true
    if wait "${job_pid[$j]}" 2>/dev/null; then answered+=" $j"; fi
  done
  pusher=""
  start_service
  renew_sage_token
  # A push the kill cut off is pushed again when nothing of it was accepted (all or none).
  again=""
  for j in "${jobs[@]}"; do
    if [[ " $answered " == *" $j "* ]]; then continue; fi
    if [ -z "$("$bin" pushes "${job_int[$j]}" --external-id "${job_first[$j]}" --json)" ]; then
      "$bin" push "${job_int[$j]}" --entity "${job_entity[$j]}" --file "${job_file[$j]}" \
        >/dev/null
      again+=" $j"
    fi
  done
  echo "round $round ($((SECONDS - started)) s): $size customers${inv:+, $inv invoices}," \
    "faults:${armed:- none}; killed at ${delay_ms} ms;" \
    "answered:${answered:- none}${again:+; pushed again:$again}"
done
wait_for "every pushed item to reach a final status" none_open
echo "$round kills, $((next - 1)) customers per vendor and $invoices invoices to Sage," \
  "in $((SECONDS - started)) s"

for v in "${vendors[@]}"; do
  "$bin" pushes "pc-$v" --json >"$work/$v-items.json"
  "$bin" logs "pc-$v" --limit 100000 --json >"$work/$v-logs.json"
done
curl_get() { python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=60).read().decode())' "$1"; }
curl_get "$sb/_sandbox/effects" >"$work/effects.json"
python3 - "$work" "$sb" >"$work/final.out" <<'PY'
import collections, glob, json, sys, time, urllib.error, urllib.parse, urllib.request
work, sb = sys.argv[1], sys.argv[2]
effects = json.load(open(work + "/effects.json"))
token = open(work + "/sage-token").read().strip()
business = open(work + "/sage-business").read().strip()

def pushed(pattern):  # the external ids the files hold
    return {json.loads(l)["external_id"] for f in glob.glob(work + "/" + pattern) for l in open(f)}

def fresh_token():
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "sage-sandbox",
                                   "client_secret": "sage-sandbox-secret"}).encode()
    return json.load(urllib.request.urlopen(sb + "/oauth/token", form, timeout=30))["access_token"]

def get(url, headers):
    # Sage's minute may be spent by the last pushes (wait as it says), and a long form outlives
    # the sandbox's token (sign in again).
    for _ in range(5):
        try:
            req = urllib.request.Request(url, headers=headers)
            return json.load(urllib.request.urlopen(req, timeout=60))
        except urllib.error.HTTPError as e:
            if e.code == 401 and "X-Business" in headers:
                headers["Authorization"] = "Bearer " + fresh_token()
            elif e.code == 429:
                time.sleep(min(61, int(e.headers.get("Retry-After") or 5)))
            else:
                raise
    raise RuntimeError("the vendor kept refusing " + url)

def vendor_records(v, entity):  # external id -> [vendor records], from the vendor's own lists
    out = collections.defaultdict(list)
    if v == "stripe":
        after = ""
        while True:
            url = sb + "/stripe/v1/customers?limit=100" + (after and "&starting_after=" + after)
            page = get(url, {"Authorization": "Bearer sk_test_sandbox"})
            for c in page["data"]:
                ext = (c.get("metadata") or {}).get("external_id")
                if ext: out[ext].append(c)
            if not page["has_more"]: break
            after = page["data"][-1]["id"]
    else:
        page = 1
        coll = "contacts" if entity == "customer" else "sales_invoices"
        while True:
            d = get(sb + "/sage/v3.1/%s?items_per_page=200&attributes=all&page=%d" % (coll, page),
                    {"Authorization": "Bearer " + token, "X-Business": business})
            for c in d["$items"]:
                if c.get("reference"): out[c["reference"]].append(c)
            if not d["$next"]: break
            page += 1
    return out

checked = [("stripe", "customer", pushed("stripe-*.ndjson")),
           ("sage", "customer", pushed("sage-*.ndjson")),
           ("sage", "invoice", pushed("invoice-*.ndjson"))]
customer_ids = {}
for v, entity, ours in checked:
    what = v + "/" + entity
    every = [json.loads(l) for l in open("%s/%s-items.json" % (work, v)) if l.strip()]
    items = [i for i in every if i["entity"] == entity]
    print(what, "pushed", len(ours))
    final = {"succeeded", "failed", "conflict", "superseded"}
    print(what, "not_final", sum(1 for i in items if i["status"] not in final))
    newest = {}
    for i in sorted(items, key=lambda i: i["seq"]):
        newest[i["external_id"]] = i
    print(what, "missing_items", len(ours - set(newest)), sorted(ours - set(newest))[:3])
    bad = [(e, i["status"], i.get("message", "")) for e, i in newest.items()
           if i["status"] != "succeeded" or not i.get("vendor_id")]
    print(what, "newest_not_succeeded", len(bad), bad[:3])
    per = collections.Counter(i["external_id"] for i in items)
    print(what, "items_per_external_id_not_1", sum(1 for n in per.values() if n != 1))
    counted = effects.get(v, {}).get(entity, {})
    creates = [(e, counted.get(e, {}).get("creates", 0)) for e in sorted(ours)
               if counted.get(e, {}).get("creates", 0) != 1]
    print(what, "creates_not_1", len(creates), creates[:3])
    updates = [(e, c["updates"]) for e, c in counted.items() if c.get("updates")]
    print(what, "updates", len(updates), updates[:3])
    retried = 0
    for l in open("%s/%s-logs.json" % (work, v)):
        e = json.loads(l) if l.strip() else {}
        if e.get("event") == "retrying" and e.get("external_id") in ours:
            retried += 1
    print(what, "info_writes_retried", retried)
    have = vendor_records(v, entity)
    ids = {e: [r["id"] for r in recs] for e, recs in have.items()}
    twice = [(e, ids[e]) for e in ids if e in ours and len(ids[e]) != 1]
    print(what, "vendor_records_not_1", len(twice) + len(ours - set(have)), twice[:3])
    differ = [(e, i.get("vendor_id"), ids.get(e)) for e, i in newest.items()
              if ids.get(e) != [i.get("vendor_id")]]
    print(what, "vendor_id_differs", len(differ), differ[:3])
    if entity == "customer" and v == "sage":
        customer_ids = {e: i.get("vendor_id") for e, i in newest.items()}
    if entity == "invoice":
        # Each invoice names the contact its customer's push made.
        wrong = [(e, recs[0]["contact"]["id"]) for e, recs in have.items() if e in ours and
                 recs[0]["contact"]["id"] != customer_ids.get(e.replace("INV-", "PC-"))]
        print(what, "contact_differs", len(wrong), wrong[:3])
PY
field() { awk -v v="$1" -v k="$2" '$1 == v && $2 == k {print $3}' "$work/final.out"; }
sed 's/^/     /' "$work/final.out"
for w in stripe/customer sage/customer sage/invoice; do
  check "$w: every item has a final status" "$(field "$w" not_final)" 0
  check "$w: every external id was accepted" "$(field "$w" missing_items)" 0
  check "$w: one item per external id" "$(field "$w" items_per_external_id_not_1)" 0
  check "$w: each external id's newest item succeeded with a vendor id" \
    "$(field "$w" newest_not_succeeded)" 0
  check "$w: exactly one create per external id at the vendor" "$(field "$w" creates_not_1)" 0
  check "$w: no update (every item is a create)" "$(field "$w" updates)" 0
  check "$w: the vendor lists one record per external id" "$(field "$w" vendor_records_not_1)" 0
  check "$w: the vendor ids we store are the vendor's" "$(field "$w" vendor_id_differs)" 0
done
check "sage/invoice: each invoice is its customer's, by the vendor id pushed" \
  "$(field sage/invoice contact_differs)" 0

echo "$pass passed, $fail failed (seed $seed)"
[ "$fail" -eq 0 ]
