#!/usr/bin/env bash
# End to end, real processes on loopback: sandbox upstream + service + CLI.
# 10,000 records per stream, exact counts, incremental resume, 429/500 bursts survived,
# 401 -> Disconnected with the hint, kill -9 mid-sync then restart: nothing lost or duplicated.
# One service per data dir; the change feed filtered, with records, followed; records by id.
# Waits below poll real processes (bounded); no behaviour under test depends on them.
set -euo pipefail
bin=$(readlink -f "$1")
probe=${2:+$(readlink -f "$2")}
work=$(mktemp -d /tmp/ledgersync-e2e-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export LEDGERSYNC_DATA_DIR="$work/data"
# Records per stream. The sanitizer pass (scripts/test) runs the same checks on fewer: at -O0
# under ASan the service parses ~10x slower, and 30,000 records there cost 6 minutes of CI.
N=${LEDGERSYNC_E2E_RECORDS:-10000}
on_wait_timeout() { cat "$work/follow.err" 2>/dev/null; tail -5 "$work/serve.log"; }
source "$(dirname "$0")/lib.sh"
lines_are() { [ "$(wc -l <"$1")" -eq "$2" ]; }  # lines_are FILE N
start_service() {
  rm -f "$work/data/service.json"
  "$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 >>"$work/serve.log" 2>&1 &
  svc=$!
  pids+=("$svc")
  wait_for "service.json" test -s "$work/data/service.json"
}
json_field() { json_eval "d$1"; }  # json_field "['status']" < doc

"$bin" sandbox --port 0 --records $N --seed 7 >"$work/sandbox.log" 2>&1 &
pids+=($!)
wait_for "sandbox" grep -q "http://" "$work/sandbox.log"
sb_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sandbox.log")
start_service
echo "sk_test_sandbox" >"$work/key"

# The control port admits only holders of the data dir's token, before CAF's handshake, and
# obeys nothing but requests: a client without the token, or with a wrong one, is refused; one
# that sends exit (even kill), down and error messages to the published actor leaves the service
# up. Peers that connect and say nothing (more than the gate lets wait) or speak another
# protocol hold up no one.
if [ -n "$probe" ]; then
  svc_port=$(json_eval "d['port']" <"$work/data/service.json")
  python3 - "$svc_port" >"$work/silent.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
http = socket.create_connection(("127.0.0.1", port))
print("connected", flush=True)
http.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
http.settimeout(5)
print("http peer closed" if http.recv(100) == b"" else "http peer answered", flush=True)
time.sleep(4)  # outlives the gate's 2 s wait for a proof: the held connections are dropped
print("silent peers closed:", sum(1 for c in silent if (c.settimeout(5), c.recv(1))[1] == b""))
PY
  silent_pid=$!
  wait_for "silent peers connected" grep -q connected "$work/silent.out"
  check "the service answers while 200 silent peers hold connections" \
    "$("$bin" list --json >/dev/null && echo yes)" yes
  wait "$silent_pid" || true
  check "a peer speaking HTTP is cut off at once" "$(grep -c "http peer closed" "$work/silent.out")" 1
  check "silent peers are closed after the gate's wait" \
    "$(grep -c "silent peers closed: 200" "$work/silent.out")" 1
  for mode in stranger forger insider; do
    code=0
    "$probe" "$mode" 127.0.0.1 "$svc_port" "$work/data" >>"$work/probe.out" 2>&1 || code=$?
    check "control port: $mode probe held ($(tail -1 "$work/probe.out" | cut -c1-60))" "$code" 0
  done
  "$bin" list >/dev/null 2>&1; check "the service still answers after the attack" $? 0
  check "service.json is private" "$(stat -c %a "$work/data/service.json")" 600
fi
# One service per data dir: a second one exits at once with code 6, names the running one and
# leaves its service.json alone; the first stays reachable.
cp "$work/data/service.json" "$work/service.first"
set +e
"$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/serve2.out" 2>&1; code=$?
set -e
check "a second serve on the same data dir is refused" "$code" 6
check "the refusal names the running service" \
  "$(grep -c "already runs on the data dir .*(pid $svc, listening on 127.0.0.1:[0-9]*)" "$work/serve2.out")" 1
check "the running service's service.json is untouched" "$(cmp -s "$work/service.first" "$work/data/service.json" && echo same)" same
check "the first service still answers" "$("$bin" list --json >/dev/null && echo yes)" yes

# Usage errors are exit 2, unknown names exit 4, before anything else.
set +e
"$bin" sync >/dev/null 2>&1; check "missing argument is a usage error" $? 2
"$bin" status no-such >/dev/null 2>&1; check "unknown integration" $? 4
"$bin" add bad --base-url "not a url" --api-key-file "$work/key" >/dev/null 2>&1; check "bad URL refused" $? 2
"$bin" list --data-dir "$work/nowhere" >/dev/null 2>&1; check "no service" $? 5
# The command line's own mistakes come first, named, even with no service to ask.
"$bin" add x --base-url http://a.test --tls-ca "$work/nope.pem" --data-dir "$work/nowhere" \
  >/dev/null 2>"$work/err.txt"; check "an unreadable PEM is a usage error before connecting" $? 2
check "...naming the flag and the file" "$(grep -c -- "--tls-ca: cannot read the file $work/nope.pem" "$work/err.txt")" 1
"$bin" add nourl --api-key-file "$work/key" >/dev/null 2>"$work/err.txt"; check "add without a base URL" $? 2
check "...says it is required" "$(grep -c 'base URL is required' "$work/err.txt")" 1
"$bin" nosuch >/dev/null 2>"$work/err.txt"; check "unknown command is a usage error" $? 2
check "unknown command lists the commands" "$(grep -cE '^ +(serve|records|changes) ' "$work/err.txt")" 3
"$bin" list --connect nonsense >/dev/null 2>&1; check "malformed --connect is a usage error" $? 2
"$bin" list --connect 127.0.0.1:99999 >/dev/null 2>&1; check "--connect port out of range is usage" $? 2
"$bin" logs x --limit 0 >/dev/null 2>"$work/err.txt"; check "range error is usage" $? 2
check "range error names the option" "$(grep -c -- '--limit: expected a whole number' "$work/err.txt")" 1
"$bin" status no-such --json >"$work/out.txt" 2>"$work/err.txt"; code=$?
check "--json: unknown integration" "$code" 4
check "--json: error is one {code, error, hint} object on stderr" \
  "$(json_eval "sorted(d) == ['code', 'error', 'hint'] and d['code'] == 4" <"$work/err.txt")" True
check "--json: nothing on stdout after an error" "$(wc -c <"$work/out.txt")" 0
"$bin" nosuch --json >/dev/null 2>"$work/err.txt"
check "--json: a usage error is JSON too" "$(json_eval "d['code']" <"$work/err.txt")" 2
# The connector registry: listed, described, and an unknown kind refused naming the known ones.
check "connectors lists rest" "$("$bin" connectors | grep -c '^rest  *Generic REST API')" 1
check "connectors rest shows its settings and streams" \
  "$("$bin" connectors rest | grep -cE '^  (secret_headers|customers) ')" 2
check "connectors --json" "$("$bin" connectors --json | json_eval "[k['name'] for k in d][0]")" rest
"$bin" connectors nope >/dev/null 2>&1; check "an unknown kind is not found" $? 4
"$bin" add odd --connector nope --base-url "http://127.0.0.1:$sb_port" >/dev/null 2>"$work/err.txt"
check "add --connector nope is refused" $? 2
check "...listing the known kinds" "$(grep -c "unknown connector 'nope' (known: rest" "$work/err.txt")" 1
"$bin" add odd --base-url "http://127.0.0.1:$sb_port" --option 'tenant=x' >/dev/null 2>"$work/err.txt"
check "add with a setting rest does not take is refused" $? 2
check "...naming it" "$(grep -c "settings.tenant is not a setting of rest" "$work/err.txt")" 1
"$bin" add odd --base-url "http://127.0.0.1:$sb_port" --option 'novalue' >/dev/null 2>"$work/err.txt"
check "a malformed --option is a usage error" $? 2
check "...naming the option" "$(grep -c -- "--option 'novalue'" "$work/err.txt")" 1
set -e

"$bin" add acme --connector rest --base-url "http://127.0.0.1:$sb_port" --api-key-file "$work/key" \
  --schedule manual --manual-burst 20 --upstream-rate 1000 --upstream-burst 100 >/dev/null
"$bin" sync acme --wait --json >"$work/sync1.json"
records=$("$bin" records acme --json | wc -l)
check "all records imported" "$records" $((3 * N))
check "records by entity: the invoices" "$("$bin" records acme --entity invoice --json | wc -l)" "$N"
check "one change entry per record" "$("$bin" changes --since 0 --json | wc -l)" $((3 * N))
check "status active" "$("$bin" status acme --json | json_field "['status']")" active
# Timed by the run's own start and finish (the CLI polls once a second, too coarse for this).
json_eval "'measured: %d records (~1 KB each) fetched, parsed and durably committed in %.2f s = %d records/s' % (
  d['fetched'], secs(d['finished']) - secs(d['started']), d['fetched'] / (secs(d['finished']) - secs(d['started'])))" \
  <"$work/sync1.json"

# Incremental: only changed records come back.
ctl "/_sandbox/mutate?stream=customers&count=25"
"$bin" sync acme --wait --json >"$work/sync2.json"
check "incremental run updated 25" "$(json_field "['updated']" <"$work/sync2.json")" 25
check "incremental run inserted 0" "$(json_field "['inserted']" <"$work/sync2.json")" 0
# The watermark is inclusive (records updated in its very millisecond are fetched again and
# found unchanged by their hash), so a stream may return a boundary record beyond the 25.
check "fetched only what changed (+ boundary records)" \
  "$(json_eval "d['fetched'] - d['unchanged'] == 25 and d['fetched'] <= 25 + 3" <"$work/sync2.json")" True
check "25 more change entries" "$("$bin" changes --since 0 --json | wc -l)" $((3 * N + 25))

# 429 and 500 bursts are survived.
ctl "/_sandbox/fault?kind=429&count=3&retry_after=1"
ctl "/_sandbox/fault?kind=500&count=2"
ctl "/_sandbox/mutate?stream=invoices&count=10"
set +e
"$bin" sync acme --wait --json >"$work/sync3.json"; code=$?
set -e
check "sync through 429/500 succeeds" "$code" 0
check "after the bursts, 10 updated" "$(json_field "['updated']" <"$work/sync3.json")" 10
"$bin" logs acme --json --limit 50 >"$work/logs.json"
check "retries are in the log" "$(grep -c '"event":"rate_limited"' "$work/logs.json")" 3

# 401: Disconnected, with the hint, no retries.
ctl "/_sandbox/fault?kind=401&count=1"
set +e
"$bin" sync acme --wait >/dev/null 2>&1; code=$?
set -e
check "401 fails the sync" "$code" 1
"$bin" status acme --json >"$work/st.json"
check "401 -> disconnected" "$(json_field "['status']" <"$work/st.json")" disconnected
check "401 -> auth category" "$(json_field "['last_error']['category']" <"$work/st.json")" auth
check "401 -> hint" "$(grep -c 'API key may have expired' "$work/st.json")" 1
"$bin" sync acme --wait >/dev/null
check "recovers when the upstream accepts the key again" "$("$bin" status acme --json | json_field "['status']")" active

# Set-aside records stay listed and keep Error until imported or dismissed.
ctl "/_sandbox/invalid?stream=payments&count=3"
"$bin" sync acme --wait >/dev/null 2>&1 || true
check "set aside: status Error" "$("$bin" status acme --json | json_field "['status']")" error
check "set aside: three listed" "$("$bin" set-aside acme --json | json_eval "len(d['set_aside'])")" 3
check "set aside: the field named" "$("$bin" set-aside acme | grep -c 'missing amount')" 3
ctl "/_sandbox/mutate?stream=invoices&count=2"
"$bin" sync acme --wait >/dev/null 2>&1 || true
check "set aside: still Error after a run that did not see them" "$("$bin" status acme --json | json_field "['set_aside']")" 3
ctl "/_sandbox/repair?stream=payments&count=2"
"$bin" sync acme --wait >/dev/null 2>&1 || true
check "set aside: corrected ones imported" "$("$bin" status acme --json | json_field "['set_aside']")" 1
last_id=$("$bin" set-aside acme --json | json_eval "d['set_aside'][0]['id']")
"$bin" set-aside acme --dismiss "$last_id" >/dev/null
check "set aside: dismissed, Active again" "$("$bin" status acme --json | json_field "['status']")" active
check "set aside: the log keeps who" "$("$bin" logs acme --json | grep -c "\"by\":\"$(id -un)\"")" 1
ctl "/_sandbox/repair?stream=payments&count=1"  # the rest of this test wants a clean upstream
"$bin" sync acme --wait >/dev/null

# Manual syncs are rate-limited: exit 3 with the wait.
"$bin" add limited --base-url "http://127.0.0.1:$sb_port" --api-key-file "$work/key" --manual-burst 1 >/dev/null
"$bin" sync limited --wait >/dev/null
set +e
"$bin" sync limited >/dev/null 2>"$work/limited.txt"; code=$?
set -e
check "second manual sync refused" "$code" 3
check "refusal says when" "$(grep -c 'try again in' "$work/limited.txt")" 1
check "refusal states the limit as configured" \
  "$(grep -c 'manual sync limit reached (1 at once, one more every 300s)' "$work/limited.txt")" 1

# Words and codes: conflicts, unknown streams, JSON errors, confirmation on a terminal.
set +e
"$bin" add limited --base-url "http://127.0.0.1:$sb_port" --api-key-file "$work/key" >/dev/null 2>&1
check "a duplicate add is a conflict" $? 1
"$bin" records limited --stream nosuch >/dev/null 2>"$work/err.txt"; check "unknown stream" $? 4
check "unknown stream names the streams there are" \
  "$(grep -c "its streams are customers, invoices, payments" "$work/err.txt")" 1
"$bin" sync limited --json >/dev/null 2>"$work/err.txt"; check "--json refusal" $? 3
check "--json refusal: code, error, hint and the wait" \
  "$(json_eval "d['code'] == 3 and 'try again in' in d['error'] and d['hint'] is not None and d['retry_after_ms'] > 0" <"$work/err.txt")" True
echo n | script -qec "'$bin' remove limited" /dev/null >"$work/remove.txt" 2>&1
check "remove on a terminal asks, and no is no" $? 1
check "remove asked" "$(grep -c 'Remove limited with its' "$work/remove.txt")" 1
"$bin" status limited >/dev/null 2>&1; check "not removed without a yes" $? 0
script -qec "'$bin' remove limited --yes" /dev/null </dev/null >"$work/remove.txt" 2>&1
check "remove --yes on a terminal does not ask" "$?:$(grep -c 'y/N' "$work/remove.txt")" "0:0"
"$bin" status limited >/dev/null 2>&1; check "removed" $? 4
set -e
TZ=Europe/London "$bin" list >"$work/list.txt"
check "list has a LAST ERROR column" "$(head -1 "$work/list.txt" | grep -c 'LAST ERROR$')" 1

# kill -9 mid-sync, restart: nothing lost, nothing duplicated.
ctl "/_sandbox/fault?kind=slow&count=12&delay_ms=400"
"$bin" add crashy --base-url "http://127.0.0.1:$sb_port" --api-key-file "$work/key" --manual-burst 5 >/dev/null
"$bin" sync crashy >/dev/null
mid() {
  "$bin" status crashy --json >"$work/crashy.json"
  cat "$work/crashy.json"
  [ "$(json_eval "(d['progress'] or {}).get('fetched',0) > 1000 and (d['progress'] or {}).get('fetched',0) < $((3 * N - 1000))" <"$work/crashy.json")" = True ]
}
wait_for "crashy mid-sync" mid
kill -9 "$svc"
wait "$svc" 2>/dev/null || true
start_service
done_syncing() { [ "$("$bin" status crashy --json | json_eval "d['running']")" = False ]; }
wait_for "resumed run" done_syncing
"$bin" sync crashy --wait >/dev/null
check "after kill -9: every record once" "$("$bin" records crashy --json | wc -l)" $((3 * N))
crashy_changes=$("$bin" changes --since 0 --json | grep -c '"integration":"crashy"')
check "after kill -9: one change entry per record" "$crashy_changes" $((3 * N))
# A resume run follows only when the kill found a stream mid-pass (not between two streams);
# the actor tests check the resume itself deterministically.
check "at most one resume run, naming the killed run" "$("$bin" logs crashy --json | grep -c '"resumes":' | awk '{print ($1 <= 1)}')" 1
check "the killed run is closed as interrupted" "$("$bin" logs crashy --json | grep -c '"event":"run_interrupted"')" 1
check "no run left running" "$("$bin" show crashy --json | json_eval "sum(r['status'] == 'running' for r in d['recent_runs'])")" 0
check "changes --integration: only that integration's entries" \
  "$("$bin" changes --integration crashy --json | grep -vc '"integration":"crashy"' || true)" 0
check "changes --integration: all of them" "$("$bin" changes --integration crashy --json | wc -l)" $((3 * N))

# The change feed as an application tails it: ISO times, records, a record by id, --follow.
"$bin" changes --integration acme --since 0 --limit 1 --with-records --json >"$work/entry.json"
check "entries carry ISO 8601 UTC times, no epoch numbers" \
  "$(json_eval "d['at'].endswith('Z') and secs(d['at']) > 0 and 'at_ms' not in d" <"$work/entry.json")" True
check "--with-records carries the record's current body" \
  "$(json_eval "d['record']['id'] == d['id']" <"$work/entry.json")" True
id=$(json_field "['id']" <"$work/entry.json")
stream=$(json_field "['stream']" <"$work/entry.json")
check "records --id reads one record" "$("$bin" records acme --id "$id" --stream "$stream" --json | json_field "['id']")" "$id"
set +e
"$bin" records acme --id no-such-id >/dev/null 2>&1; code=$?
set -e
check "records --id of an unknown record" "$code" 4
"$bin" show acme --json >"$work/show.json"
check "show: history kept and its limits" \
  "$(json_eval "(d['retention']['events'] > 0, d['retention']['keep_days'], d['retention']['keep_events'], d['retention']['keep_runs'])" <"$work/show.json")" \
  "(True, 30, 10000, 1000)"
check "show: times are ISO" "$(json_eval "'created_at_ms' not in d['config'] and secs(d['config']['created_at']) > 0" <"$work/show.json")" True
set +e
"$bin" configure acme --log-retention-days 0 >/dev/null 2>&1; code=$?
set -e
check "a retention out of range is refused" "$code" 2
"$bin" configure acme --log-retention-events 5000 >/dev/null
check "retention is configurable" "$("$bin" show acme --json | json_eval "d['retention']['keep_events']")" 5000

before=$("$bin" changes --integration acme --json | wc -l)
"$bin" changes --integration acme --follow --json >"$work/follow.out" 2>"$work/follow.err" &
follower=$!
pids+=("$follower")
wait_for "--follow to catch up" lines_are "$work/follow.out" "$before"
ctl "/_sandbox/mutate?stream=customers&count=5"
"$bin" sync acme --wait >/dev/null
wait_for "--follow to print the new entries" lines_are "$work/follow.out" $((before + 5))
kill -INT "$follower"
set +e
wait "$follower"; code=$?
set -e
check "--follow stops on Ctrl-C (SIGINT), exit 0" "$code" 0
check "--follow printed whole lines only" "$(tail -c 1 "$work/follow.out" | od -An -c | tr -d ' ')" '\n'

# A stopping service removes service.json only while it is its own.
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['token']='someone-else'; json.dump(d, open(sys.argv[1],'w'))" "$work/data/service.json"
stop_service "$svc" "$work/serve.log"
check "service.json that is not its own is left in place" "$(test -f "$work/data/service.json" && echo kept)" kept
start_service
stop_service "$svc" "$work/serve.log"
check "its own service.json is removed on exit" "$(test -f "$work/data/service.json" && echo kept || echo gone)" gone

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
