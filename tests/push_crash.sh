#!/usr/bin/env bash
# The push crash test: files of customers of varying size are pushed to a Stripe integration
# (idempotency key) and a Sage one (no key: a resumed create looks the contact up by its
# reference first) while the service is killed with kill -9 at random points — during
# acceptance, while items are sent — and restarted, with the sandbox's write_lost / write_500
# faults armed so that many items are resumed after an unanswered write. Once no item is open:
#   - every item has a final status, and each external id's newest item succeeded with a vendor id;
#   - the sandbox's effect log shows exactly one create per external id and no update (every
#     item here is a create; a resumed one is re-sent under its key or found by its reference);
#   - the vendor's own list (its API, not the effect log) holds exactly one record per external
#     id, and its id is the vendor id we stored: none lost, none made twice.
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
# Sage takes 200 requests a minute: the last items of a long form wait their turn.
WAIT_SECONDS=$((120 + pushes / 2))
source "$(dirname "$0")/lib.sh"
on_wait_timeout() { tail -5 "$work/serve.log"; }
start_service() {
  rm -f "$work/data/service.json"
  "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 >>"$work/serve.log" 2>&1 &
  svc=$!
  wait_for "service.json" test -s "$work/data/service.json"
}
vendors=(stripe sage)
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
PY
rate=(--schedule manual --manual-burst 100 --upstream-rate 1000 --upstream-burst 100)
"$bin" add pc-stripe --connector stripe --base-url "$sb/stripe" \
  --api-key-file "$work/stripe-key" "${rate[@]}" >/dev/null
"$bin" add pc-sage --connector sage --base-url "$sb/sage/v3.1" --api-key-file "$work/sage-token" \
  --option "business_id=$(cat "$work/sage-business")" "${rate[@]}" >/dev/null

# One file per kill, sizes from 1 to twice the mean, so that about `kills` of them push
# `pushes` (the count of kills varies with the draw: the test prints it).
mean=$(((pushes + kills - 1) / kills))
next=1
round=0
started=$SECONDS
while [ "$next" -le "$pushes" ]; do
  round=$((round + 1))
  size=$((1 + RANDOM % (2 * mean - 1)))
  if [ $((next + size - 1)) -gt "$pushes" ]; then size=$((pushes - next + 1)); fi
  for v in "${vendors[@]}"; do
    : >"$work/$v-$round.ndjson"
  done
  for ((i = next; i < next + size; i++)); do
    line='{"external_id":"PC-'$i'","op":"create",'
    line+='"fields":{"name":"Push Crash '$i'","email":"pc'$i'@example.com"}}'
    for v in "${vendors[@]}"; do echo "$line" >>"$work/$v-$round.ndjson"; done
  done
  first="PC-$next"
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
  for v in "${vendors[@]}"; do
    "$bin" push "pc-$v" --entity customer --file "$work/$v-$round.ndjson" \
      >"$work/push-$v.out" 2>&1 &
    eval "pusher_$v=\$!"
  done
  pusher="$pusher_stripe $pusher_sage"
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
  for v in "${vendors[@]}"; do
    p=pusher_$v
    kill -9 "${!p}" 2>/dev/null || true
    if wait "${!p}" 2>/dev/null; then answered+=" $v"; fi
  done
  pusher=""
  start_service
  # A push the kill cut off is pushed again when nothing of it was accepted.
  again=""
  for v in "${vendors[@]}"; do
    if [[ " $answered " == *" $v "* ]]; then continue; fi
    if [ -z "$("$bin" pushes "pc-$v" --external-id "$first" --json)" ]; then
      "$bin" push "pc-$v" --entity customer --file "$work/$v-$round.ndjson" >/dev/null
      again+=" $v"
    fi
  done
  echo "round $round ($((SECONDS - started)) s): $size customers, faults:${armed:- none};" \
    "killed at ${delay_ms} ms;" \
    "answered:${answered:- none}${again:+; pushed again:$again}"
done
wait_for "every pushed item to reach a final status" none_open
echo "$round kills, $((next - 1)) customers per vendor, in $((SECONDS - started)) s"

for v in "${vendors[@]}"; do
  "$bin" pushes "pc-$v" --json >"$work/$v-items.json"
  "$bin" logs "pc-$v" --limit 100000 --json >"$work/$v-logs.json"
done
curl_get() { python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=60).read().decode())' "$1"; }
curl_get "$sb/_sandbox/effects" >"$work/effects.json"
python3 - "$work" "$sb" "$pushes" >"$work/final.out" <<'PY'
import collections, json, sys, urllib.request
work, sb, pushes = sys.argv[1], sys.argv[2], int(sys.argv[3])
ours = {"PC-%d" % i for i in range(1, pushes + 1)}
effects = json.load(open(work + "/effects.json"))
token = open(work + "/sage-token").read().strip()
business = open(work + "/sage-business").read().strip()

def get(url, headers):
    req = urllib.request.Request(url, headers=headers)
    return json.load(urllib.request.urlopen(req, timeout=60))

def vendor_records(v):  # external id -> [vendor ids], from the vendor's own list endpoint
    out = collections.defaultdict(list)
    if v == "stripe":
        after = ""
        while True:
            url = sb + "/stripe/v1/customers?limit=100" + (after and "&starting_after=" + after)
            page = get(url, {"Authorization": "Bearer sk_test_sandbox"})
            for c in page["data"]:
                ext = (c.get("metadata") or {}).get("external_id")
                if ext: out[ext].append(c["id"])
            if not page["has_more"]: break
            after = page["data"][-1]["id"]
    else:
        page = 1
        while True:
            d = get(sb + "/sage/v3.1/contacts?items_per_page=200&attributes=all&page=%d" % page,
                    {"Authorization": "Bearer " + token, "X-Business": business})
            for c in d["$items"]:
                if c.get("reference") in ours: out[c["reference"]].append(c["id"])
            if not d["$next"]: break
            page += 1
    return out

for v in ("stripe", "sage"):
    items = [json.loads(l) for l in open("%s/%s-items.json" % (work, v)) if l.strip()]
    final = {"succeeded", "failed", "conflict", "superseded"}
    print(v, "not_final", sum(1 for i in items if i["status"] not in final))
    newest = {}
    for i in sorted(items, key=lambda i: i["seq"]):
        newest[i["external_id"]] = i
    print(v, "missing_items", len(ours - set(newest)), sorted(ours - set(newest))[:3])
    bad = [(e, i["status"], i.get("message", "")) for e, i in newest.items()
           if i["status"] != "succeeded" or not i.get("vendor_id")]
    print(v, "newest_not_succeeded", len(bad), bad[:3])
    per = collections.Counter(i["external_id"] for i in items)
    print(v, "items_per_external_id_not_1", sum(1 for n in per.values() if n != 1))
    counted = effects.get(v, {}).get("customer", {})
    creates = [(e, counted.get(e, {}).get("creates", 0)) for e in sorted(ours)
               if counted.get(e, {}).get("creates", 0) != 1]
    print(v, "creates_not_1", len(creates), creates[:3])
    updates = [(e, c["updates"]) for e, c in counted.items() if c.get("updates")]
    print(v, "updates", len(updates), updates[:3])
    retried = 0
    for l in open("%s/%s-logs.json" % (work, v)):
        l = l.strip()
        if l and json.loads(l).get("event") == "retrying" and "external_id" in json.loads(l):
            retried += 1
    print(v, "info_writes_retried", retried)
    have = vendor_records(v)
    twice = [(e, ids) for e, ids in have.items() if len(ids) != 1]
    print(v, "vendor_records_not_1", len(twice) + len(ours - set(have)), twice[:3])
    differ = [(e, i.get("vendor_id"), have.get(e)) for e, i in newest.items()
              if have.get(e) != [i.get("vendor_id")]]
    print(v, "vendor_id_differs", len(differ), differ[:3])
PY
field() { awk -v v="$1" -v k="$2" '$1 == v && $2 == k {print $3}' "$work/final.out"; }
sed 's/^/     /' "$work/final.out"
for v in "${vendors[@]}"; do
  check "$v: every item has a final status" "$(field "$v" not_final)" 0
  check "$v: every external id was accepted" "$(field "$v" missing_items)" 0
  check "$v: one item per external id" "$(field "$v" items_per_external_id_not_1)" 0
  check "$v: each external id's newest item succeeded with a vendor id" \
    "$(field "$v" newest_not_succeeded)" 0
  check "$v: exactly one create per external id at the vendor" "$(field "$v" creates_not_1)" 0
  check "$v: no update (every item is a create)" "$(field "$v" updates)" 0
  check "$v: the vendor lists one record per external id" "$(field "$v" vendor_records_not_1)" 0
  check "$v: the vendor ids we store are the vendor's" "$(field "$v" vendor_id_differs)" 0
done

echo "$pass passed, $fail failed (seed $seed)"
[ "$fail" -eq 0 ]
