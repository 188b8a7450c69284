#!/usr/bin/env bash
# The crash test: kill -9 the service at random points during syncs, with upstream changes
# between kills, restart it each time and let it resume; then nothing may be lost, duplicated
# or left behind:
#   - the records equal the upstream's exactly (ids and bodies), each once;
#   - the change feed's seq strictly increases, with one entry per real change: for each record,
#     as many upserts as versions the upstream gave it (each record changes at most once, and
#     only after it was first imported, so every version is there to be seen);
#   - no run is left "running" once the service is idle (checked after every restart);
#   - no stream's cursor is ahead of its records: watermark and pass_max never later than the
#     newest stored updated_at of the stream (checked after every restart).
# Kill points come from a seeded RNG; the seed is printed so a failure can be replayed (the
# timing of real processes makes a replay close, not exact).
# Usage: crash.sh path/to/ledgersync [--kills N] [--seed S] [--records N]
#   CI runs the short form (20 kills); `--kills 200` is the long form, by hand.
set -euo pipefail
bin=$(readlink -f "$1")
shift
kills=20
seed=$(((RANDOM << 15) | RANDOM))
records=2000
while [ $# -gt 0 ]; do
  case $1 in
    --kills) kills=${2-}; shift; shift || true ;;
    --seed) seed=${2-}; shift; shift || true ;;
    --records) records=${2-}; shift; shift || true ;;
    *) echo "usage: crash.sh LEDGERSYNC [--kills N] [--seed S] [--records N]" >&2; exit 2 ;;
  esac
done
[[ $kills =~ ^[1-9][0-9]*$ && $seed =~ ^[0-9]+$ && $records =~ ^[1-9][0-9]*$ ]] ||
  { echo "crash.sh: --kills, --seed and --records take whole numbers (kills, records >= 1)" >&2; exit 2; }
RANDOM=$seed
echo "crash test: $kills kills, $records records per stream, seed $seed"
echo "  (replay: tests/crash.sh LEDGERSYNC --kills $kills --records $records --seed $seed)"

work=$(mktemp -d /tmp/ledgersync-crash-XXXXXX)
# Only live processes of ours are killed at the end: a pid of a service killed earlier may belong
# to someone else's process by then.
svc=""
sandbox=""
cleanup() {
  for p in $svc $sandbox; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export LEDGERSYNC_DATA_DIR="$work/data"
unset LEDGERSYNC_TIMEOUT
WAIT_SECONDS=120
source "$(dirname "$0")/lib.sh"
start_service() {
  rm -f "$work/data/service.json"
  "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 >>"$work/serve.log" 2>&1 &
  svc=$!
  wait_for "service.json" test -s "$work/data/service.json"
}
idle() { "$bin" status crashy --json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["running"])'; }

# The checks that hold at every idle moment: no run left running, no cursor ahead of its
# records; prints one line per problem, nothing when all is well. Also says whether the first
# import is complete ("imported").
cat >"$work/idle_checks.py" <<'PY'
import datetime, json, sys
show = json.load(open(sys.argv[1]))
newest = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    newest[r["stream"]] = max(newest.get(r["stream"], ""), r["updated_at"])
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
for run in show.get("recent_runs", []):
    if run.get("status") == "running":
        print("problem: run %s (%s) is still running with the service idle" % (run.get("run_id"), run.get("kind")))
for stream, c in show.get("cursors", {}).items():
    for field in ("watermark", "pass_max"):
        v = c.get(field) or ""
        if v and (stream not in newest or t(v) > t(newest[stream])):
            print("problem: %s cursor %s %s is ahead of its newest record (%s)" % (stream, field, v, newest.get(stream, "none")))
runs = show.get("recent_runs", [])
print("newest_run %s" % (runs[0].get("kind") if runs else "none"))
# Whether the run the kill was aimed at had already ended (then the kill hit an idle service).
if len(sys.argv) > 4:
    aimed = [r for r in runs if str(r.get("run_id")) == sys.argv[4]]
    if aimed and aimed[0].get("status") in ("ok", "error", "failed", "cancelled"):
        print("killed_run finished")
cursors = show.get("cursors", {})
done = len(cursors) == 3 and all(c.get("watermark") and not c.get("in_pass") for c in cursors.values())
print("imported" if done and sum(show.get("records", {}).values()) == 3 * int(sys.argv[3]) else "importing")
PY

"$bin" sandbox --port 0 --records "$records" --seed 5 >"$work/sandbox.log" 2>&1 &
sandbox=$!
wait_for "sandbox" grep -q "http://" "$work/sandbox.log"
sb_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sandbox.log")
start_service
echo "sk_test_sandbox" >"$work/key"
"$bin" add crashy --base-url "http://127.0.0.1:$sb_port" --api-key-file "$work/key" \
  --manual-burst 100 --upstream-rate 1000 --upstream-burst 100 >/dev/null

# Each record changes at most once over the whole test: the sandbox changes records in an order
# that visits all of a stream before any again, and the rounds change fewer than that in all.
declare -A budget=([customers]=$((records - 1)) [invoices]=$((records - 1)) [payments]=$((records - 1)))
per_round=$(((records - 1) / (2 * kills)))
imported=no
problems=0
landed=0
round=0
: >"$work/seen"
started=$SECONDS
# A round whose run ended before its kill does not count: rounds go on until `kills` kills have
# landed inside a run.
while [ "$landed" -lt "$kills" ]; do
  round=$((round + 1))
  if [ "$round" -gt $((3 * kills)) ]; then
    check "kills landing inside a run (of $((round - 1)) rounds)" "$landed" "$kills"
    exit 1
  fi
  what=""
  if [ "$imported" = yes ] && [ "$per_round" -gt 0 ]; then
    for s in customers invoices payments; do
      n=$((1 + RANDOM % per_round))
      if [ "$n" -gt "${budget[$s]}" ]; then n=${budget[$s]}; fi
      if [ "$n" -eq 0 ]; then continue; fi
      budget[$s]=$((budget[$s] - n))
      ctl "/_sandbox/mutate?stream=$s&count=$n"
      what+=" $s+$n"
    done
  fi
  # Slow pages stretch the run, and the kill comes at a random point of that stretch: between
  # pages, during a fetch, or while a page commits.
  slow=$((1 + RANDOM % 3))
  slow_ms=$((100 + RANDOM % 300))
  ctl "/_sandbox/fault?kind=slow&count=$slow&delay_ms=$slow_ms"
  full=""
  if [ $((RANDOM % 2)) -eq 0 ]; then full="--full"; fi
  delay_ms=$((RANDOM % (slow * slow_ms)))
  # The delay counts from the moment the run has started (sync answers then); nothing slower
  # than a sed between the answer and the sleep.
  run_id=$("$bin" sync crashy $full --json | sed -n 's/.*"run_id":\([0-9]*\).*/\1/p' || true)
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if ! kill -9 "$svc" 2>/dev/null; then
    echo "FAIL - the service (pid $svc) had stopped before kill $((landed + 1)); its log ends:"
    tail -5 "$work/serve.log"
    exit 1
  fi
  wait "$svc" 2>/dev/null || true
  svc=""
  start_service
  wait_for "the service to finish the resumed run" idle
  look() {
    "$bin" show crashy --json >"$work/show.json"
    "$bin" records crashy --json >"$work/records.json"
    python3 "$work/idle_checks.py" "$work/show.json" "$work/records.json" "$records" \
      "${run_id:-0}" >"$work/idle.out"
  }
  look
  # The schedule may start a run between the idle check and the look: that run is running for
  # real, so wait for it and look again. A run the crash left marked running stays so while the
  # service is idle, and is still reported.
  if grep -q '^problem: run .* is still running' "$work/idle.out" && ! idle; then
    wait_for "the scheduled run to finish" idle
    look
  fi
  resumed=""
  if grep -qx 'newest_run resume' "$work/idle.out"; then resumed=", resumed after the restart"; fi
  if [ -z "$run_id" ]; then
    echo "round $round: no run started (the sync was refused), the kill at ${delay_ms} ms does not count"
  elif grep -qx 'killed_run finished' "$work/idle.out"; then
    echo "round $round: the ${full:+full }run $run_id had ended before the kill at ${delay_ms} ms"
  else
    landed=$((landed + 1))
    echo "kill $landed: ${delay_ms} ms into ${full:+full }run $run_id${resumed};" \
      "changed upstream:${what:- nothing}"
  fi
  # A problem is reported once, in the round that shows it first (runs stay in `show`).
  new=$(grep '^problem' "$work/idle.out" | grep -vxFf "$work/seen" || true)
  if [ -n "$new" ]; then
    echo "$new" | tee -a "$work/seen"
    problems=$((problems + 1))
  fi
  if grep -qx 'imported' "$work/idle.out"; then imported=yes; fi
done
echo "$kills kills inside runs, $round rounds, in $((SECONDS - started)) s"
check "after every restart: no run left running, no cursor ahead of its records" \
  "$problems rounds with problems" "0 rounds with problems"

# Let everything the upstream changed arrive, then compare with the upstream itself.
"$bin" sync crashy --wait >/dev/null || true
"$bin" sync crashy --wait >/dev/null
"$bin" show crashy --json >"$work/show.json"
"$bin" status crashy --json >"$work/status.json"
"$bin" records crashy --json >"$work/records.json"
"$bin" changes --since 0 --json >"$work/changes.json"
python3 "$work/idle_checks.py" "$work/show.json" "$work/records.json" "$records" >"$work/idle.out"
check "at the end: no run left running, no cursor ahead of its records" \
  "$(grep -c '^problem' "$work/idle.out" || true)" 0
grep '^problem' "$work/idle.out" || true
check "at the end: the service is idle" \
  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["running"])' "$work/status.json")" False

python3 - "$work" "$sb_port" >"$work/final.out" <<'PY'
import collections, json, sys, urllib.request
work, port = sys.argv[1], sys.argv[2]
upstream = {}
for stream in ("customers", "invoices", "payments"):
    cursor = ""
    while True:
        req = urllib.request.Request(
            "http://127.0.0.1:%s/v1/%s?limit=1000&cursor=%s" % (port, stream, cursor),
            headers={"Authorization": "Bearer sk_test_sandbox"})
        page = json.load(urllib.request.urlopen(req, timeout=60))
        for rec in page["data"]:
            upstream[(stream, rec["id"])] = rec
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
stored = collections.Counter()
bodies = {}
for line in open(work + "/records.json"):
    r = json.loads(line)
    stored[(r["stream"], r["id"])] += 1
    bodies[(r["stream"], r["id"])] = r["record"]
dups = [k for k, n in stored.items() if n > 1]
print("duplicates", len(dups), dups[:3])
missing = [k for k in upstream if k not in stored]
extra = [k for k in stored if k not in upstream]
print("missing", len(missing), missing[:3])
print("extra", len(extra), extra[:3])
differ = [k for k in upstream if k in bodies and bodies[k] != upstream[k]]
print("differ", len(differ), differ[:3])
seqs, upserts = [], collections.Counter()
for line in open(work + "/changes.json"):
    c = json.loads(line)
    seqs.append(c["seq"])
    if c["integration"] == "crashy" and c["op"] == "upsert":
        upserts[(c["stream"], c["id"])] += 1
bad_seq = [i for i in range(1, len(seqs)) if seqs[i] <= seqs[i - 1]]
print("seq_not_increasing", len(bad_seq), [(seqs[i - 1], seqs[i]) for i in bad_seq[:3]])
wrong = [(k, upserts[k], rec["version"]) for k, rec in upstream.items() if upserts[k] != rec["version"]]
wrong += [(k, n, 0) for k, n in upserts.items() if k not in upstream]
print("changes_not_one_per_version", len(wrong), wrong[:3])
print("changed_upstream", sum(1 for r in upstream.values() if r["version"] > 1))
PY
field() { awk -v k="$1" '$1 == k {print $2}' "$work/final.out"; }
cat "$work/final.out" | grep -v " 0 \[\]$" | sed 's/^/     /' || true
check "records: none missing" "$(field missing)" 0
check "records: none the upstream does not have" "$(field extra)" 0
check "records: each once" "$(field duplicates)" 0
check "records: bodies equal the upstream's" "$(field differ)" 0
check "change feed: seq strictly increasing" "$(field seq_not_increasing)" 0
check "change feed: one entry per real change ($(field changed_upstream) records changed upstream)" \
  "$(field changes_not_one_per_version)" 0

echo "$pass passed, $fail failed (seed $seed)"
[ "$fail" -eq 0 ]
