#!/usr/bin/env bash
# `webhook add|list|deliveries|resume|remove` as a user runs them: output, JSON, exit codes,
# the file they keep. BIN is the ledgersync binary.
set -uo pipefail
bin=$(readlink -f "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/ledgersync-webhooks-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
source "$root/tests/lib.sh"
dir=$work/data
mkdir -p "$dir"
hook() { "$bin" webhook --data-dir "$dir" "$@"; }
code() { "$@" >"$work/out" 2>"$work/err"; echo $?; }

# Bad input is refused before anything is needed or written.
check "file:// is refused (usage)" "$(code hook add file:///etc/passwd --events '*')" 2
check "...with a reason" "$(grep -c 'http or https only' "$work/err")" 1
check "a relative URL is refused" "$(code hook add /hook --events '*')" 2
check "an unknown event is refused" "$(code hook add https://h.example/ --events run_failed,exploded)" 2
check "...and named" "$(grep -c "unknown event 'exploded'" "$work/err")" 1
check "--events is required" "$(code hook add https://h.example/)" 2
check "no webhook file was written" "$(ls "$dir" | grep -c webhooks.json)" 0

# The key: never made here (a master.key beside a configured key file stops the service).
check "no sealing key yet: an error with a hint" "$(code hook add https://h.example/ --events '*')" 1
check "...saying what to do" "$(grep -c 'start the service once' "$work/err")" 1
check "...and no master.key was made" "$(ls "$dir" | grep -c master.key)" 0
head -c 32 /dev/urandom >"$dir/master.key"
chmod 600 "$dir/master.key"

check "add" "$(code hook add https://hooks.example.com/ls --events status_changed,run_failed)" 0
secret=$(head -1 "$work/out")
check "the secret is printed once" "$(echo "$secret" | grep -cE '^whsec_[0-9a-f]{64}$')" 1
check "the file is 0600" "$(stat -c %a "$dir/webhooks.json")" 600
check "the secret is not in the file" "$(grep -c "$secret" "$dir/webhooks.json")" 0
check "add --json" "$(code hook add http://127.0.0.1:9/x --events '*' --json)" 0
id2=$(json_eval 'd["id"]' <"$work/out")
check "add --json shows the secret and every event" \
  "$(json_eval 'd["secret"][:6] + " " + str(len(d["events"]))' <"$work/out")" "whsec_ 6"

check "list" "$(code hook list)" 0
check "list shows both" "$(grep -c 'active' "$work/out")" 2
check "list --json" "$(code hook list --json)" 0
id1=$(json_eval '[w["id"] for w in d if w["url"].startswith("https://hooks")][0]' <"$work/out")
check "list --json fields" \
  "$(json_eval '" ".join(sorted(d[0].keys()))' <"$work/out")" \
  "consecutive_failures created_at events id last_delivery paused_reason state url"
check "list never shows a secret" "$(grep -c whsec_ "$work/out")" 0

check "deliveries of a fresh webhook" "$(code hook deliveries "$id1")" 0
check "...says there are none" "$(grep -c 'No deliveries' "$work/out")" 1
check "deliveries --json" "$(code hook deliveries "$id1" --json)" 0
check "...is an empty list" "$(cat "$work/out")" "[]"
check "deliveries of an unknown id" "$(code hook deliveries wh_nope)" 4
check "resume of an unknown id" "$(code hook resume wh_nope)" 4
check "remove of an unknown id" "$(code hook remove wh_nope --json)" 4
check "...answers a script in JSON" "$(json_eval 'd["code"]' <"$work/err")" 4

check "resume" "$(code hook resume "$id1")" 0
check "remove" "$(code hook remove "$id2" --json)" 0
check "...in JSON" "$(json_eval 'd["removed"]' <"$work/out")" "$id2"
check "one left" "$(hook list --json | json_eval 'len(d)')" 1

# A damaged file is reported, not read as "no webhooks".
echo '{broken' >"$dir/webhooks.json"
check "a damaged file fails list" "$(code hook list)" 1
check "...saying so" "$(grep -c damaged "$work/err")" 1

# End to end: the running service notices a status change and a run's end, and delivers them
# signed to a receiver that refuses the first attempt (500) and takes the retry.
live=$work/live
mkdir -p "$live"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
"$bin" sandbox --port 0 --records 50 >"$work/sandbox.log" 2>&1 &
pids+=($!)
wait_for "sandbox" grep -q "http://" "$work/sandbox.log"
sb_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sandbox.log")
"$bin" serve --data-dir "$live" --listen 127.0.0.1:0 --http-listen off >"$work/serve.log" 2>&1 &
pids+=($!)
wait_for "service.json" test -s "$live/service.json"
/usr/bin/python3 - "$work" >"$work/receiver.log" 2>&1 <<'PY' &
import hashlib, hmac, http.server, json, os, sys, time
work = sys.argv[1]
calls = []
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        secret = open(os.path.join(work, "secret")).read().strip().encode()
        sig = dict(p.split("=", 1) for p in self.headers["Ledgersync-Signature"].split(","))
        want = hmac.new(secret, (sig["t"] + ".").encode() + body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(want, sig["v1"]) and abs(time.time() - int(sig["t"])) < 300
        event = self.headers["Ledgersync-Event"]
        calls.append(event)
        first = calls.count(event) == 1
        print("%s signature=%s attempt=%s" % (event, "valid" if ok else "BAD",
              "first" if first else "retry"), json.loads(body)["data"].get("integration"),
              flush=True)
        self.send_response(500 if first else 200)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(os.path.join(work, "receiver.port"), "w").write(str(s.server_address[1]))
s.serve_forever()
PY
pids+=($!)
wait_for "receiver" test -s "$work/receiver.port"
rport=$(cat "$work/receiver.port")
"$bin" webhook --data-dir "$live" add "http://127.0.0.1:$rport/hook" \
  --events status_changed,run_succeeded --json >"$work/add.json"
json_eval 'd["secret"]' <"$work/add.json" >"$work/secret"
hid=$(json_eval 'd["id"]' <"$work/add.json")
echo sk_test_sandbox >"$work/key"
LEDGERSYNC_DATA_DIR=$live "$bin" add acme --connector rest \
  --base-url "http://127.0.0.1:$sb_port" --api-key-file "$work/key" --schedule manual >/dev/null
LEDGERSYNC_DATA_DIR=$live "$bin" sync acme --wait >/dev/null
retried_both() { [ "$(grep -c 'attempt=retry' "$work/receiver.log")" -ge 2 ]; }
wait_for "both events retried and taken" retried_both
check "status_changed was delivered, signed" \
  "$(grep -c '^status_changed signature=valid attempt=retry acme' "$work/receiver.log")" 1
check "run_succeeded was delivered, signed" \
  "$(grep -c '^run_succeeded signature=valid attempt=retry acme' "$work/receiver.log")" 1
check "no bad signature" "$(grep -c BAD "$work/receiver.log")" 0
"$bin" webhook --data-dir "$live" deliveries "$hid" --json >"$work/deliveries.json"
check "the delivery log shows the 500 and the 200" \
  "$(json_eval '" ".join(sorted(set(str(x.get("status")) for x in d)))' <"$work/deliveries.json")" \
  "200 500"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
