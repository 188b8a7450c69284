#!/usr/bin/env bash
# No request waits forever: 200 CLI requests of mixed kinds fired at once at one service, each
# must exit with a code its kind allows and print its answer, all within a bound. Before the
# fix, 1-6 of 200 hung for good (CAF reused a closed connection's socket number for a new one and
# dropped the new one's reply) and a few exited 5. Then the deadlines: a service that does not
# answer in time, or does not even finish the connection, is reported as such (exit 5).
# Usage: concurrency.sh path/to/ledgersync [requests]
set -euo pipefail
bin=$(readlink -f "$1")
requests=${2:-200}
work=$(mktemp -d /tmp/ledgersync-conc-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export LEDGERSYNC_DATA_DIR="$work/data"
unset LEDGERSYNC_TIMEOUT
source "$(dirname "$0")/lib.sh"

"$bin" sandbox --port 0 --records 2000 --seed 11 >"$work/sandbox.log" 2>&1 &
pids+=($!)
wait_for "sandbox" grep -q "http://" "$work/sandbox.log"
sb_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sandbox.log")
"$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
svc=$!
pids+=("$svc")
wait_for "service.json" test -s "$work/data/service.json"
echo "sk_test_sandbox" >"$work/key"
"$bin" add acme --base-url "http://127.0.0.1:$sb_port" --api-key-file "$work/key" \
  --manual-burst 100 --upstream-rate 1000 --upstream-burst 100 >/dev/null
"$bin" sync acme --wait >/dev/null

# kind -> arguments (the answers are checked below).
kinds=(sync status list show logs records changes test nosuch)
args_of() {
  case $1 in
    sync) echo "sync acme" ;;  status) echo "status acme" ;;  list) echo "list" ;;
    show) echo "show acme" ;;  logs) echo "logs acme --limit 5" ;;
    records) echo "records acme --limit 5" ;;  changes) echo "changes --since 0 --limit 5" ;;
    test) echo "test acme" ;;  nosuch) echo "status nosuch" ;;
  esac
}

started=$SECONDS
reqs=()
for i in $(seq "$requests"); do
  k=${kinds[$((i % ${#kinds[@]}))]}
  # shellcheck disable=SC2046
  (
    set +e
    "$bin" $(args_of "$k") --json >"$work/out.$i" 2>"$work/err.$i" &
    echo "$!" >"$work/pid.$i"
    wait "$!"
    echo $? >"$work/rc.$i"
  ) &
  reqs+=("$!")
done
bound=$((SECONDS + 90))
missing=()
for i in $(seq "$requests"); do
  while [ ! -s "$work/rc.$i" ] && [ "$SECONDS" -lt "$bound" ]; do sleep 0.1; done
  [ -s "$work/rc.$i" ] || missing+=("$i")
done
elapsed=$((SECONDS - started))
for i in "${missing[@]}"; do
  k=${kinds[$((i % ${#kinds[@]}))]}
  echo "FAIL - request $i ($(args_of "$k")) has not returned after ${elapsed}s"
  kill -9 "$(cat "$work/pid.$i")" 2>/dev/null || true
done
wait "${reqs[@]}" 2>/dev/null || true
check "every request returned within 90 s (took ${elapsed}s)" "${#missing[@]}" 0

for i in $(seq "$requests"); do echo "$i ${kinds[$((i % ${#kinds[@]}))]}"; done >"$work/manifest"
# Exit codes each kind may give, and what its --json answer must show (stdout, then stderr: an
# error's JSON may be on either). One line per request that got neither, then the count.
python3 - "$work" >"$work/answers.out" <<'PY'
import json, sys
work = sys.argv[1]
codes = {"sync": (0, 3), "nosuch": (4,)}
answer = {
    "sync": lambda d: d[0]["outcome"] in ("started", "joined", "rate_limited"),
    "status": lambda d: d[0]["name"] == "acme",
    "list": lambda d: [x["name"] for x in d[0]] == ["acme"],
    "show": lambda d: d[0]["config"]["name"] == "acme",
    "logs": lambda d: 1 <= len(d) <= 5 and all("event" in e for e in d),
    "records": lambda d: len(d) == 5,
    "changes": lambda d: len(d) == 5,
    "test": lambda d: d[0]["ok"] is True,
    "nosuch": lambda d: "nosuch" in d[0]["error"],
}
wrong = 0
for line in open(work + "/manifest"):
    i, kind = line.split()
    try:
        rc = int(open("%s/rc.%s" % (work, i)).read())
    except (OSError, ValueError):
        continue  # did not return: reported above
    texts = [open("%s/%s.%s" % (work, f, i)).read() for f in ("out", "err")]
    try:
        d = [json.loads(l) for t in texts for l in t.splitlines() if l.strip()]
        ok = rc in codes.get(kind, (0,)) and bool(answer[kind](d))
    except Exception:
        ok = False
    if not ok:
        wrong += 1
        print("     request %s (%s) exited %d: %s" % (i, kind, rc, " ".join(texts)[:300]))
print(wrong)
PY
head -n -1 "$work/answers.out"
wrong=$(tail -1 "$work/answers.out")
check "every request exited with an expected code and printed its answer" "$wrong" 0

# The request deadline: the service answers `test` only after the upstream's 4 s delay.
ctl "/_sandbox/fault?kind=slow&count=1&delay_ms=4000"
t0=$SECONDS
set +e
timeout 20 "$bin" test acme --timeout 1 >/dev/null 2>"$work/slow.txt"; code=$?
set -e
check "a late answer is given up after --timeout: exit 5" "$code" 5
check "...within the deadline" "$([ $((SECONDS - t0)) -le 3 ] && echo yes)" yes
check "...saying what did not answer and how to wait longer" \
  "$(grep -c 'did not answer `test acme` within 1 s (wait longer with --timeout' "$work/slow.txt")" 1
sleep 4  # let the slow answer go by before the next checks

# The connect deadline: a stopped service still completes TCP's handshake, never CAF's.
kill -STOP "$svc"
t0=$SECONDS
set +e
LEDGERSYNC_TIMEOUT=1 timeout 20 "$bin" list >/dev/null 2>"$work/stopped.txt"; code=$?
set -e
kill -CONT "$svc"
check "a service that does not finish the connection: exit 5 (LEDGERSYNC_TIMEOUT)" "$code" 5
check "...within the deadline" "$([ $((SECONDS - t0)) -le 3 ] && echo yes)" yes
check "...saying so" "$(grep -c 'did not complete the connection within 1 s' "$work/stopped.txt")" 1
check "the service answers again once resumed" "$("$bin" status acme --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')" acme

set +e
LEDGERSYNC_TIMEOUT=soon timeout 20 "$bin" list >/dev/null 2>"$work/badenv.txt"; code=$?
timeout 20 "$bin" list --timeout 0 >/dev/null 2>&1; code2=$?
set -e
check "a malformed LEDGERSYNC_TIMEOUT is a usage error" "$code" 2
check "...naming the variable" "$(grep -c "LEDGERSYNC_TIMEOUT must be a number of seconds" "$work/badenv.txt")" 1
check "--timeout 0 is a usage error" "$code2" 2

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
