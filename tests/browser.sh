#!/usr/bin/env bash
# The Integrations page in real headless Chromium: a sandbox upstream and a real service with
# its HTTP API, five integrations made with the CLI (one signing in with OAuth), an admin and a viewer token, then
# tests/browser.mjs (playwright-core driving Debian's chromium; both from scripts/setup).
# Screenshots go to $LEDGERSYNC_ARTEFACTS (default build/artefacts/).
set -euo pipefail
bin=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
for need in /usr/bin/chromium "$root/tools/npm/node_modules/playwright-core/package.json"; do
  [ -e "$need" ] || { echo "FAIL - $need is missing: run scripts/setup"; exit 1; }
done
work=$(mktemp -d /tmp/ledgersync-browser-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export LEDGERSYNC_DATA_DIR="$work/data"
on_wait_timeout() { tail -20 "$work/serve.log"; }
source "$here/lib.sh"

# Two payments lack a required field: set aside, so their integrations show Error.
"$bin" sandbox --port 0 --records 2000 --seed 7 --invalid 2 --invalid-stream payments \
  >"$work/sandbox.log" 2>&1 &
pids+=($!)
wait_for "sandbox" grep -q "http://" "$work/sandbox.log"
sb_port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/sandbox.log")

"$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  >>"$work/serve.log" 2>&1 &
pids+=($!)
wait_for "service.json with the HTTP port" \
  python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['http_port'] > 0" \
  "$work/data/service.json"
http_port=$(json_eval "d['http_port']" <"$work/data/service.json")

echo "sk_test_sandbox" >"$work/key"
echo "sk_test_wrong" >"$work/bad-key"
url="http://127.0.0.1:$sb_port"
"$bin" add arrears --base-url "$url" --api-key-file "$work/key" --schedule "every 1h" >/dev/null
"$bin" add books --base-url "$url" --api-key-file "$work/key" --schedule "every 15m" \
  --manual-burst 1 --manual-refill 300 >/dev/null
"$bin" add payroll --base-url "$url" --api-key-file "$work/key" --schedule "weekly mon 06:00 UTC" >/dev/null
"$bin" add bank-feed --base-url "$url" --api-key-file "$work/bad-key" --schedule manual >/dev/null
# crm signs in with OAuth at the sandbox's authorization server (Configure's Connect…); not
# signed in yet, and not synced, so that it is not yet Disconnected.
"$bin" add crm --base-url "$url" --schedule manual --option oauth=true \
  --option client_id=xero-sandbox --option client_secret=xero-sandbox-secret \
  --option auth_base_url="$url" >/dev/null
# arrears: synced, two records set aside (Error); bank-feed: the key refused (Disconnected).
"$bin" sync arrears --wait >/dev/null || true
"$bin" sync payroll --wait >/dev/null || true
"$bin" sync bank-feed --wait >/dev/null 2>&1 || true

token() {
  "$bin" token create --data-dir "$work/data" --role "$1" --name "browser-$1" --json |
    json_eval "d['token']"
}
admin=$(token admin)
viewer=$(token viewer)

LEDGERSYNC_URL="http://127.0.0.1:$http_port" ADMIN_TOKEN="$admin" VIEWER_TOKEN="$viewer" \
  SANDBOX_URL="$url" LEDGERSYNC_ARTEFACTS="${LEDGERSYNC_ARTEFACTS:-$root/build/artefacts}" \
  node "$here/browser.mjs"
