#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` from the build dir, unpacked into a scratch root with
# `dpkg -x` (no root needed), and the service run from there with the packaged config, the way
# the systemd unit runs it: data in ${STATE_DIRECTORY}, the sealing key in
# ${CREDENTIALS_DIRECTORY}, JSON log lines; SIGHUP reopens the log, SIGTERM exits 0.
set -euo pipefail
build=$(readlink -f "$1")
work=$(mktemp -d /tmp/ledgersync-package-XXXXXX)
svc=
cleanup() { [ -n "$svc" ] && kill -9 "$svc" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"

(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; echo "FAIL - cpack -G DEB"; exit 1; }
deb=$(ls "$work"/pkg/ledgersync_*_amd64.deb)
check "one .deb built" "$(ls "$work"/pkg/*.deb | wc -l)" 1
dpkg-deb -I "$deb" >"$work/info"
check "its dependencies are computed (libcaf, lmdb, sodium)" \
  "$(grep -E '^ Depends:' "$work/info" | grep -c 'libcaf.*liblmdb\|liblmdb.*libcaf')" 1
check "the config is a conffile" "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" \
  /etc/ledgersync/ledgersync.conf
check "postinst creates the service user" \
  "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst | grep -c 'adduser --system')" 1

root="$work/root"
dpkg -x "$deb" "$root"
for f in usr/bin/ledgersync usr/lib/systemd/system/ledgersync.service \
  etc/ledgersync/ledgersync.conf usr/share/man/man1/ledgersync.1.gz; do
  check "installs /$f" "$(test -s "$root/$f" && echo yes)" yes
done
unit="$root/usr/lib/systemd/system/ledgersync.service"
for k in "User=ledgersync" "Restart=on-failure" "NoNewPrivileges=yes" "ProtectSystem=strict" \
  "PrivateTmp=yes" "LoadCredential=master.key:/etc/ledgersync/master.key" \
  "ExecStart=/usr/bin/ledgersync serve --config /etc/ledgersync/ledgersync.conf"; do
  check "unit: $k" "$(grep -cx "$k" "$unit")" 1
done
check "the man page renders" "$(man -l "$root/usr/share/man/man1/ledgersync.1.gz" 2>/dev/null |
  grep -c 'keeps finance data in step')" 1
bin="$root/usr/bin/ledgersync"
check "the packaged binary runs" "$("$bin" --version)" "ledgersync 0.1.0"

# As systemd would start it (paths from the unit's StateDirectory= and LoadCredential=).
export STATE_DIRECTORY="$work/state" CREDENTIALS_DIRECTORY="$work/creds"
mkdir -p "$STATE_DIRECTORY" "$CREDENTIALS_DIRECTORY"
"$bin" keygen "$CREDENTIALS_DIRECTORY/master.key" >/dev/null
"$bin" serve --config "$root/etc/ledgersync/ledgersync.conf" --listen 127.0.0.1:0 \
  --http-listen 127.0.0.1:0 \
  --log-file "$work/service.log" >"$work/serve.out" 2>&1 &
svc=$!
wait_for "service.json" test -s "$STATE_DIRECTORY/service.json"
check "the packaged service answers" \
  "$(LEDGERSYNC_DATA_DIR="$STATE_DIRECTORY" "$bin" list --json)" '[]'
check "no sealing key in the data dir" "$(ls "$STATE_DIRECTORY" | grep -c master.key || true)" 0
mv "$work/service.log" "$work/service.log.1"
kill -HUP "$svc"
wait_for "the log reopened" grep -q "service log reopened" "$work/service.log"
check "log lines are JSON" "$(python3 -c 'import json,sys
print(all(json.loads(l)["level"] for l in open(sys.argv[1])))' "$work/service.log")" True
kill -TERM "$svc"
code=0
wait "$svc" || code=$?
svc=
check "SIGTERM: exits 0" "$code" 0
echo "package: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
