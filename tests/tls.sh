#!/usr/bin/env bash
# TLS to upstreams, real processes on loopback: python3's ssl module serves HTTPS with
# certificates this script makes with openssl (a private CA, a wrong name, an expired one, a
# server that requires a client certificate). Each failure must come back as category `tls`
# with the hint for its cause and without retries; the right settings must sync.
set -euo pipefail
bin=$(readlink -f "$1")
work=$(mktemp -d /tmp/ledgersync-tls-XXXXXX)
pids=()
cleanup() {
  exec 2>/dev/null  # no "Killed" notices for the upstreams
  for p in "${pids[@]}"; do kill -9 "$p" || true; done
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT  # KEEP=1 leaves the files for a look
export LEDGERSYNC_DATA_DIR="$work/data"
pass=0
fail=0
check() {  # check "what" actual expected
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok   - $1"; else fail=$((fail + 1)); echo "FAIL - $1: got '$2', expected '$3'"; fi
}
has() {  # has "what" FILE TEXT: the file contains the text
  if grep -qF -- "$3" "$2"; then pass=$((pass + 1)); echo "ok   - $1"; else fail=$((fail + 1)); echo "FAIL - $1: '$3' not in:"; cat "$2"; fi
}
wait_for() {  # up to 30 s
  local what=$1; shift
  local deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "FAIL - timed out waiting for $what"; exit 1
}
json_eval() { python3 -c "import json,sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

# --- certificates -------------------------------------------------------------------------
cd "$work"
ossl() { openssl "$@" 2>/dev/null; }
make_ca() {  # make_ca NAME CN
  ossl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 30 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
# issue NAME CA SUBJECT_CN SAN START END USAGE: a certificate signed by CA valid START..END
# (openssl ca dates, YYYYMMDDHHMMSSZ), which `openssl x509 -req` cannot backdate.
issue() {
  mkdir -p "ca-$2"; : >"ca-$2/index"; [ -f "ca-$2/serial" ] || echo 1000 >"ca-$2/serial"
  cat >"$1.cnf" <<CNF
[ca]
default_ca = d
[d]
database = ca-$2/index
serial = ca-$2/serial
new_certs_dir = ca-$2
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
[p]
commonName = supplied
[ext]
basicConstraints = CA:FALSE
subjectAltName = $4
extendedKeyUsage = $7
CNF
  ossl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$3"
  ossl ca -batch -config "$1.cnf" -cert "$2.pem" -keyfile "$2.key" -in "$1.csr" -out "$1.pem" \
    -startdate "$5" -enddate "$6" -extensions ext -notext
  test -s "$1.pem" || { echo "FAIL - could not issue $1"; exit 1; }
}
now=$(date -u +%Y%m%d%H%M%SZ)
in_days() { date -u -d "+$1 days" +%Y%m%d%H%M%SZ; }
make_ca ca "Test Firm Root CA"
make_ca other "Some Other CA"
issue server ca localhost "DNS:localhost,IP:127.0.0.1" "$now" "$(in_days 20)" serverAuth
issue wrongname ca other.example "DNS:other.example" "$now" "$(in_days 20)" serverAuth
issue expired ca localhost "DNS:localhost" 20200101000000Z 20210101000000Z serverAuth
issue client ca ledgersync-client "DNS:client" "$now" "$(in_days 10)" clientAuth
issue stranger other ledgersync-client "DNS:client" "$now" "$(in_days 10)" clientAuth

# --- upstreams ----------------------------------------------------------------------------
mkdir -p www/v1
echo '{"data":[{"id":"c1","name":"Ann","email":"a@x","updated_at":"2026-01-01T00:00:00Z"},
{"id":"c2","name":"Bo","email":"b@x","updated_at":"2026-01-02T00:00:00Z"}],"has_more":false}' \
  >www/v1/customers
cat >streams.json <<'JSON'
[{"name": "customers", "path": "/v1/customers", "entity": "customer",
  "required": ["name", "email"], "pagination": {"style": "none"}}]
JSON
serve() {  # serve NAME CERT [CLIENT_CA]: an HTTPS upstream; its port lands in NAME.port
  python3 - "$@" >"$1.log" 2>&1 <<'PY' &
import functools, http.server, ssl, sys
name, cert = sys.argv[1], sys.argv[2]
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory="www"))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert + ".pem", cert + ".key")
if len(sys.argv) > 3:
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(sys.argv[3])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(name + ".port.tmp", "w").write(str(srv.server_address[1]))
import os; os.rename(name + ".port.tmp", name + ".port")
srv.serve_forever()
PY
  pids+=($!)
  wait_for "upstream $1" test -s "$1.port"
}
serve good server
serve wrong wrongname
serve old expired
serve mtls server ca.pem
url() { echo "https://localhost:$(cat "$1.port")"; }

"$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
pids+=($!)
wait_for "service" test -s "$work/data/service.json"

add() {  # add NAME UPSTREAM [options...]
  local n=$1 u=$2; shift 2
  "$bin" add "$n" --base-url "$(url "$u")" --streams-file streams.json --schedule manual \
    --manual-burst 20 "$@" >/dev/null
}
test_json() {  # test_json NAME: the failure object (stderr) or the answer (stdout)
  "$bin" test "$1" --json >"$1.test" 2>&1 || true
}
expect_tls() {  # expect_tls NAME "message part" "hint part"
  test_json "$1"
  check "$1: test fails as tls" "$(json_eval "d.get('category', d.get('error', ''))" <"$1.test" | grep -o tls | head -1)" tls
  has "$1: the message names the cause" "$1.test" "$2"
  has "$1: the hint says what to do" "$1.test" "$3"
}

# Private CA not trusted, then trusted.
add private good
expect_tls private "is issued by 'CN=Test Firm Root CA', which this integration does not trust" \
  "add the server's CA to the integration's TLS settings"
"$bin" sync private --wait --json >private.sync 2>&1 || true
check "private: the run fails as tls" "$(json_eval "d['error']['category']" <private.sync)" tls
check "private: not retried" "$("$bin" logs private --json | grep -c '"retry' || true)" 0
check "private: status Disconnected" "$("$bin" status private --json | json_eval "d['status']")" disconnected
"$bin" configure private --tls-ca ca.pem >/dev/null
"$bin" test private >private.ok 2>&1; check "private: test passes with the CA" $? 0
has "test reports the server's certificate subject" private.ok "server certificate: CN=localhost"
has "test reports its issuer" private.ok "issued by: CN=Test Firm Root CA"
has "test reports its expiry" private.ok "expires:   $(date -u -d "+20 days" +%Y-%m-%d)"
"$bin" sync private --wait >/dev/null 2>&1; check "private: sync succeeds" $? 0
check "private: the records arrived" "$("$bin" records private --json | wc -l)" 2
check "private: status Active" "$("$bin" status private --json | json_eval "d['status']")" active
# Inline PEM works as well as a file.
add inline good --tls-ca "$(cat ca.pem)"
"$bin" test inline >/dev/null 2>&1; check "inline PEM CA: test passes" $? 0

# Wrong name, then the name to verify set.
add wrong wrong --tls-ca ca.pem
expect_tls wrong "is not valid for the name 'localhost'" "--tls-server-name"
"$bin" configure wrong --tls-server-name other.example >/dev/null
"$bin" test wrong >/dev/null 2>&1; check "wrong: test passes with --tls-server-name" $? 0

# Expired.
add old old --tls-ca ca.pem
expect_tls old "expired on 2021-01-01T00:00:00Z (valid from 2020-01-01T00:00:00Z" \
  "the server's certificate expired on 2021-01-01T00:00:00Z"

# Mutual TLS: required and missing, a certificate the server does not trust, then the right one.
add mtls mtls --tls-ca ca.pem
expect_tls mtls "requires a client certificate" "--tls-client-cert"
"$bin" configure mtls --tls-client-cert stranger.pem --tls-client-key stranger.key >/dev/null
expect_tls mtls "refused the client certificate" "check that it is the one the source system registered"
"$bin" configure mtls --tls-client-cert client.pem --tls-client-key client.key >/dev/null
"$bin" test mtls >/dev/null 2>&1; check "mtls: test passes with the client certificate" $? 0
"$bin" sync mtls --wait >/dev/null 2>&1; check "mtls: sync succeeds" $? 0
check "mtls: the records arrived" "$("$bin" records mtls --json | wc -l)" 2
"$bin" show mtls >mtls.show
has "show warns of a client certificate expiring within 30 days" mtls.show \
  "warning: the TLS client certificate expires on"
has "show masks the client key" mtls.show "TLS client key:       (set, sealed)"
"$bin" show mtls --json >mtls.showjson
check "the client key is never shown" "$(cat mtls.show mtls.showjson | grep -c 'PRIVATE KEY' || true)" 0
check "the client key is sealed at rest" "$(grep -rlF "$(sed -n 2p client.key)" data | wc -l)" 0
"$bin" show private >private.show
check "no warning without a client certificate" "$(grep -c warning private.show || true)" 0

# Bad settings are refused at save with the reason.
set +e
"$bin" configure mtls --tls-client-key other.key >err.txt 2>&1; check "a key of another certificate is refused" $? 2
has "  ... and says so" err.txt "does not belong to the client certificate"
"$bin" add nokey --base-url "$(url good)" --tls-client-cert client.pem >err.txt 2>&1; check "a certificate without its key is refused" $? 2
has "  ... and says so" err.txt "needs its private key"
"$bin" add noca --base-url "$(url good)" --tls-ca nosuch.pem >err.txt 2>&1; check "a missing CA file is refused" $? 2
"$bin" add junk --base-url "$(url good)" --tls-ca streams.json >err.txt 2>&1; check "a CA file that is not PEM is refused" $? 2
"$bin" add plain --base-url "http://localhost:1" --tls-ca ca.pem >err.txt 2>&1; check "TLS settings on http are refused" $? 2
set -e

echo "tls: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
