# Shared by the end-to-end test scripts: results, bounded waits, the sandbox's control API and
# JSON reads. A script sets `work` (its temporary directory) before wait_for and `sb_port`
# before ctl. WAIT_SECONDS (default 60) bounds wait_for; a function on_wait_timeout, when the
# script defines one, adds what to show when a wait runs out. Waits poll real processes; no
# behaviour under test depends on their timing.
pass=0
fail=0
check() {  # check "what" actual expected
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok   - $1"; else fail=$((fail + 1)); echo "FAIL - $1: got '$2', expected '$3'"; fi
}
wait_for() {  # wait_for "what" command...: until it succeeds, then shows what it last said
  local what=$1; shift
  local deadline=$((SECONDS + ${WAIT_SECONDS:-60}))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if "$@" >"$work/wait.out" 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "FAIL - timed out waiting for $what; last said:"; cat "$work/wait.out"
  if declare -F on_wait_timeout >/dev/null; then on_wait_timeout; fi
  exit 1
}
ctl() {  # POST to the sandbox's control API without curl
  exec 3<>"/dev/tcp/127.0.0.1/$sb_port"
  printf 'POST %s HTTP/1.1\r\nHost: sandbox\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' "$1" >&3
  cat <&3 >/dev/null
  exec 3>&-
}
json_eval() {  # json_eval "python expression over d" < doc; secs() reads our ISO times
  python3 -c "import json,sys,datetime
secs = lambda t: datetime.datetime.fromisoformat(t.replace('Z', '+00:00')).timestamp()
d = json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"
}
stop_service() {  # stop_service PID LOG: SIGTERM, then a bounded wait. The service bounds its
  # own stop at 30 s (exit 7, naming the stage): one still stopping after 20 s is hung, so its
  # threads are shown then (with gdb, when it is there), before that limit ends it. Any exit but
  # 0 fails the check, instead of the suite hanging until ctest's timeout. PID must be a child.
  local pid=$1 log=$2 i code=0
  kill -TERM "$pid" 2>/dev/null || true  # already gone: its exit code says how, below
  for i in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "the service (pid $pid) is still stopping 20 s after SIGTERM; its threads:"
    if command -v gdb >/dev/null; then
      { gdb -p "$pid" -batch -ex "thread apply all bt" 2>/dev/null | grep -E '^(Thread|#)' | head -200; } || true
    fi
    for i in $(seq 250); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || code=$?
  check "the service stopped on SIGTERM, in time (pid $pid)" "$code" 0
  [ "$code" -eq 0 ] || tail -20 "$log"
}
