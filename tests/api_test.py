#!/usr/bin/python3
"""The HTTP API over real HTTP, against a real service and sandbox upstream: every endpoint with
both roles (and none), every answer checked against api/openapi.yaml, and the bad requests:
bad JSON, oversize and non-JSON bodies, unknown integrations and paths, wrong methods, bad query
parameters, a slow client. Usage: api_test.py LEDGERSYNC_BINARY API_YAML"""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time
import http.client
import yaml
import jsonschema

binary, spec_path = sys.argv[1], sys.argv[2]
spec = yaml.safe_load(open(spec_path))
work = tempfile.mkdtemp(prefix="ledgersync-api-")
data = os.path.join(work, "data")
procs = []
passed = failed = 0
exercised = set()


def check(what, got, expected):
    global passed, failed
    if got == expected:
        passed += 1
        print("ok   - " + what)
    else:
        failed += 1
        print("FAIL - %s: got %r, expected %r" % (what, got, expected))


def cli(*args, check_rc=True):
    env = dict(os.environ, LEDGERSYNC_DATA_DIR=data)
    r = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=120)
    if check_rc and r.returncode != 0:
        raise SystemExit("FAIL - `ledgersync %s`: %s %s" % (" ".join(args), r.stdout, r.stderr))
    return r


def wait_for(what, fn, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise SystemExit("FAIL - timed out waiting for " + what)


def template_of(path):
    """The spec's path template a concrete path matches, or None."""
    for tmpl in spec["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", tmpl) + "$"
        if re.match(pattern, path.split("?")[0]):
            return tmpl
    return None


resolver = jsonschema.RefResolver.from_schema(spec)


def validate(method, path, status, content_type, body):
    tmpl = template_of(path)
    op = spec["paths"][tmpl].get(method.lower()) if tmpl else None
    if op is None:
        # An unknown path or method: only the one error shape is promised.
        if status < 400:
            return "%s %s answered %d but is not in the spec" % (method, path, status)
        return schema_problem(body, {"$ref": "#/components/schemas/Error"})
    exercised.add((method, tmpl))
    responses = op["responses"]
    resp = responses.get(str(status)) or responses.get("default")
    if resp is None:
        return "the spec has no %d (nor default) for %s %s" % (status, method, tmpl)
    if "$ref" in resp:
        resp = resolver.resolve(resp["$ref"])[1]
    content = resp.get("content")
    if not content:
        return None if not body else "the spec says no body for %d, got one" % status
    media = content_type.split(";")[0].strip()
    if media not in content:
        return "content type %s not in the spec for %d" % (media, status)
    if media != "application/json":
        return None
    return schema_problem(body, content[media]["schema"])


def schema_problem(body, schema):
    try:
        jsonschema.validate(json.loads(body), schema, resolver=resolver,
                            cls=jsonschema.Draft202012Validator)
    except ValueError:
        return "not JSON: " + body[:80]
    except jsonschema.ValidationError as e:
        return "does not match the spec: %s at %s" % (e.message[:160], list(e.absolute_path))
    return None


def call(method, path, token=None, body=None, headers=None, raw=None):
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=90)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
    if payload is not None and "Content-Type" not in h:
        h["Content-Type"] = "application/json"
    conn.request(method, path, body=payload, headers=h)
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    problem = validate(method, path, r.status, r.getheader("Content-Type", ""), text)
    check("%s %s -> %d answers as the spec says%s" % (method, path, r.status,
          "" if problem is None else ": " + problem), problem, None)
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = None
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), doc


try:
    sandbox = subprocess.Popen([binary, "sandbox", "--port", "0", "--records", "300",
                                "--invalid", "2", "--invalid-stream", "payments"],
                               stdout=open(os.path.join(work, "sandbox.log"), "w"),
                               stderr=subprocess.STDOUT)
    procs.append(sandbox)
    sb_port = wait_for("the sandbox", lambda: (re.findall(
        r"http://127.0.0.1:(\d+)", open(os.path.join(work, "sandbox.log")).read()) or [None])[0])
    service = subprocess.Popen([binary, "serve", "--data-dir", data, "--listen", "127.0.0.1:0",
                                "--http-listen", "127.0.0.1:0"],
                               stdout=open(os.path.join(work, "serve.log"), "w"),
                               stderr=subprocess.STDOUT)
    procs.append(service)
    service_json = os.path.join(data, "service.json")
    wait_for("service.json", lambda: os.path.exists(service_json) and os.path.getsize(service_json))
    http_port = json.load(open(service_json))["http_port"]
    key = os.path.join(work, "key")
    open(key, "w").write("sk_test_sandbox\n")
    base = "http://127.0.0.1:" + sb_port
    cli("add", "acme", "--connector", "rest", "--base-url", base, "--api-key-file", key,
        "--schedule", "manual", "--manual-burst", "1")
    admin = json.loads(cli("token", "create", "--role", "admin", "--name", "alice",
                           "--json").stdout)["token"]
    viewer = json.loads(cli("token", "create", "--role", "viewer", "--name", "victor",
                            "--json").stdout)["token"]
    check("token list names both, shows no secret",
          sorted(t["name"] for t in json.loads(cli("token", "list", "--json").stdout)),
          ["alice", "victor"])

    # Reads: a viewer may; no token or a wrong one may not.
    reads = ["/api/v1/integrations", "/api/v1/integrations/acme",
             "/api/v1/integrations/acme/config", "/api/v1/integrations/acme/runs",
             "/api/v1/integrations/acme/logs?limit=5", "/api/v1/integrations/acme/set-aside",
             "/api/v1/integrations/acme/records?limit=2", "/api/v1/changes?since=0&limit=2",
             "/api/v1/connectors", "/api/v1/connectors/rest"]
    for path in reads:
        check("viewer GET " + path, call("GET", path, viewer)[0], 200)
        check("no token GET " + path, call("GET", path)[0], 401)
        check("wrong token GET " + path, call("GET", path, "lst_" + "0" * 64)[0], 401)

    # Changes: an admin may, a viewer is refused with 403, nothing happens.
    changes = [("POST", "/api/v1/integrations/acme/test", None),
               ("POST", "/api/v1/integrations/acme/disable", None),
               ("POST", "/api/v1/integrations/acme/enable", None),
               ("PATCH", "/api/v1/integrations/acme", {"schedule": "every 30m"}),
               ("POST", "/api/v1/integrations", {"name": "beta", "connector": "rest",
                                                 "base_url": base, "api_key": "sk_test_sandbox",
                                                 "schedule": "manual"}),
               ("DELETE", "/api/v1/integrations/beta", None),
               ("POST", "/api/v1/integrations/acme/set-aside/payments/x/dismiss", None)]
    for method, path, body in changes:
        check("viewer %s %s is forbidden" % (method, path), call(method, path, viewer, body)[0], 403)
        check("no token %s %s" % (method, path), call(method, path, None, body)[0], 401)
    expected = {"/api/v1/integrations": 201, "/api/v1/integrations/beta": 204,
                "/api/v1/integrations/acme/set-aside/payments/x/dismiss": 404}
    for method, path, body in changes:
        check("admin %s %s" % (method, path), call(method, path, admin, body)[0],
              expected.get(path, 200))
    # connect (OAuth sign-in): admins only; acme signs in with an API key, so it is refused.
    begin = {"step": "begin", "redirect_uri": "http://127.0.0.1:5000/callback"}
    check("viewer connect is forbidden",
          call("POST", "/api/v1/integrations/acme/connect", viewer, begin)[0], 403)
    status, _, doc = call("POST", "/api/v1/integrations/acme/connect", admin, begin)
    check("connect without OAuth is a conflict, saying so",
          (status, "does not sign in with OAuth" in json.dumps(doc)), (409, True))
    check("connect with a bad step is 400",
          call("POST", "/api/v1/integrations/acme/connect", admin, {"step": "x"})[0], 400)
    events = call("GET", "/api/v1/integrations/acme/logs?limit=100", viewer)[2]
    check("the sync log records who asked for the change",
          any(e.get("event") == "change_requested" and e.get("op") == "configure"
              and e.get("by") == "token 'alice'" for e in events), True)
    check("...and who added the integration from the CLI",
          any(e.get("event") == "change_requested" and e.get("op") == "add"
              and e.get("by", "").startswith("the CLI (user ") for e in events), True)
    check("the schedule was saved",
          call("GET", "/api/v1/integrations/acme", viewer)[2]["schedule"], "every 30m")

    # Sync now: 202 with the run id, the run's progress, then 429 with Retry-After.
    status, headers, doc = call("POST", "/api/v1/integrations/acme/sync", admin)
    check("sync now starts a run: 202", status, 202)
    run_id = doc["run_id"]
    status, headers, doc = call("POST", "/api/v1/integrations/acme/sync", admin)
    check("a second press joins the running sync (200, same run) or is rate-limited (429)",
          status in (200, 429), True)
    if status == 200:
        check("...joined the same run", doc["run_id"], run_id)
    status, _, doc = call("GET", "/api/v1/integrations/acme/runs/%d/wait?timeout=20s" % run_id,
                          viewer)
    check("waiting for the run answers with its end", (status, doc["done"], doc["run"]["run_id"]),
          (200, True, run_id))
    check("...which is recorded: not running any more",
          call("GET", "/api/v1/integrations/acme", viewer)[2]["running"], False)
    check("waiting without a token is 401",
          call("GET", "/api/v1/integrations/acme/runs/%d/wait?timeout=1s" % run_id)[0], 401)
    check("a wait's timeout beyond 25s is refused",
          call("GET", "/api/v1/integrations/acme/runs/%d/wait?timeout=30s" % run_id, viewer)[0],
          400)
    check("run progress by id", call("GET", "/api/v1/integrations/acme/runs/%d" % run_id,
                                     viewer)[0], 200)
    status, headers, doc = call("POST", "/api/v1/integrations/acme/sync", admin)
    check("the manual-sync allowance used up: 429", status, 429)
    check("...with Retry-After in seconds", headers.get("retry-after", "").isdigit(), True)
    check("...and the error shape", sorted(doc["error"]), ["code", "hint", "message"])
    status, _, doc = call("GET", "/api/v1/integrations/acme/set-aside", viewer)
    check("set-aside records listed", status, 200)
    status, _, doc = call("GET", "/api/v1/integrations/acme/records?stream=customers&limit=1",
                          viewer)
    check("records by stream", status, 200)
    check("...one row and where the next page starts", (len(doc["records"]), doc["next"]),
          (1, "customers/" + doc["records"][0]["id"]))
    status, _, page2 = call("GET", "/api/v1/integrations/acme/records?stream=customers&limit=1"
                            "&after=" + doc["next"], viewer)
    check("...the next page goes on after it",
          page2["records"][0]["id"] > doc["records"][0]["id"], True)
    status, _, last = call("GET", "/api/v1/integrations/acme/records?stream=customers&limit=10000",
                           viewer)
    check("...the last page says so (next is null)", (len(last["records"]), last["next"]),
          (300, None))
    status, _, inv = call("GET", "/api/v1/integrations/acme/records?entity=invoice&limit=10000",
                          viewer)
    check("records by canonical entity", (status, len(inv["records"]),
                                          {r["stream"] for r in inv["records"]}),
          (200, 300, {"invoices"}))
    status, _, doc = call("GET", "/api/v1/integrations/acme/records/customers/cus_00000001",
                          viewer)
    check("one record by stream and id", status, 200)
    t0 = time.time()
    status, _, doc = call("GET", "/api/v1/changes?since=999999&wait=1s", viewer)
    check("the change feed long-polls up to `wait`", (status, time.time() - t0 >= 0.9), (200, True))

    # The connector registry: every kind, and one in full.
    status, _, doc = call("GET", "/api/v1/connectors", viewer)
    check("connectors lists rest", (status, "rest" in [k["name"] for k in doc]), (200, True))
    status, _, doc = call("GET", "/api/v1/connectors/rest", viewer)
    check("connectors/rest has its settings and streams",
          (status, [s["key"] for s in doc["settings"]], doc["streams"][0]["name"]),
          (200, ["watermark_order", "secret_headers", "oauth", "client_id", "client_secret",
                 "refresh_token", "auth_base_url", "grant"], "customers"))
    status, _, doc = call("GET", "/api/v1/connectors/nope", viewer)
    check("an unknown kind is 404 naming the known ones",
          (status, "rest" in doc["error"]["message"]), (404, True))
    status, _, doc = call("POST", "/api/v1/integrations", admin,
                          {"name": "gamma", "connector": "nope", "base_url": base})
    check("add with an unknown connector is 400 listing the kinds",
          (status, "known: rest" in doc["error"]["message"]), (400, True))
    status, _, doc = call("POST", "/api/v1/integrations", admin,
                          {"name": "gamma", "base_url": base, "settings": {"tenant": "x"}})
    check("add with a setting rest does not take is 400 naming it",
          (status, "settings.tenant" in doc["error"]["message"]), (400, True))
    status, _, doc = call("PATCH", "/api/v1/integrations/acme", admin,
                          {"settings": {"secret_headers": {"X-Tenant-Key": "tk-hidden-1"}}})
    check("a secret setting saved", status, 200)
    status, _, doc = call("GET", "/api/v1/integrations/acme/config", viewer)
    check("...and never shown", ("tk-hidden-1" in json.dumps(doc),
                                 doc["config"]["settings_hints"]), (False,
                                                                    {"secret_headers": "(set, sealed)"}))
    status, _, doc = call("PATCH", "/api/v1/integrations/acme", admin,
                          {"settings": {"secret_headers": None}})
    check("null removes a setting", (status, "settings_hints" in
                                     call("GET", "/api/v1/integrations/acme/config", viewer)[2]["config"]),
          (200, False))

    # New streams: the answer says what moved (checked against the spec like every answer).
    streams = call("GET", "/api/v1/integrations/acme/config", viewer)[2]["config"]["streams"]
    status, _, doc = call("PATCH", "/api/v1/integrations/acme", admin, {"streams": streams[:-1]})
    gone = streams[-1]["name"]
    check("streams removed on PATCH: the answer names them",
          (status, doc.get("streams"), "--stream " + gone in doc.get("streams_note", "")),
          (200, {"added": [], "removed": [gone], "restarted": []}, True))
    status, _, doc = call("PATCH", "/api/v1/integrations/acme", admin, {"streams": streams})
    check("...and added back", (status, doc.get("streams"), "streams_note" in doc),
          (200, {"added": [gone], "removed": [], "restarted": []}, False))
    status, _, doc = call("PATCH", "/api/v1/integrations/acme", admin, {"schedule": "manual"})
    check("no stream moved: no streams in the answer", (status, doc), (200, {"configured": "acme"}))

    # Bad requests: each gets the one error shape and a status that says what was wrong.
    bad = [("GET", "/api/v1/integrations/nope", viewer, None, None, {}, 404),
           ("GET", "/api/v1/nothing-here", viewer, None, None, {}, 404),
           ("PUT", "/api/v1/integrations/acme", admin, None, "{}", {}, 405),
           ("POST", "/api/v1/integrations", admin, None, "{not json", {}, 400),
           ("POST", "/api/v1/integrations", admin, None, "name=x", {"Content-Type":
                                                                     "text/plain"}, 415),
           ("POST", "/api/v1/integrations", admin, None, "x" * (2 * 1024 * 1024), {}, 413),
           ("GET", "/api/v1/integrations/acme/logs?limit=0", viewer, None, None, {}, 400),
           ("GET", "/api/v1/changes?since=-1", viewer, None, None, {}, 400),
           ("PATCH", "/api/v1/integrations/acme", admin, {"schedule": "every now and then"},
            None, {}, 400)]
    for method, path, token, body, raw, headers, want in bad:
        status, _, doc = call(method, path, token, body, headers, raw)
        check("%s %s -> %d" % (method, path[:60], want), status, want)
        check("...in the error shape", isinstance(doc, dict) and sorted(doc.get("error", {})),
              ["code", "hint", "message"])

    # Server-sent events: a status frame arrives.
    s = socket.create_connection(("127.0.0.1", http_port), timeout=10)
    s.sendall(("GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
               % viewer).encode())
    got = b""
    while b"event: status" not in got and len(got) < 100000:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    s.close()
    check("events: a status frame arrives", b"event: status" in got, True)
    exercised.add(("GET", "/api/v1/events"))

    # A slow client (half a header) is cut off by the header deadline, not held forever.
    s = socket.create_connection(("127.0.0.1", http_port), timeout=30)
    s.sendall(b"GET /api/v1/integrations HTTP/1.1\r\nHost: x\r\n")
    t0 = time.time()
    closed = s.recv(100)
    check("a slow client is disconnected by the header deadline",
          (closed[:12], time.time() - t0 < 25), (closed[:12], True))
    s.close()

    # Identity and the operational endpoints.
    status, _, doc = call("GET", "/api/v1/whoami", viewer)
    check("whoami names the token and its role", (status, doc), (200, {"name": "victor",
                                                                      "role": "viewer"}))
    check("healthz needs no token", call("GET", "/healthz")[0], 200)
    check("readyz needs no token, and the engine answers", call("GET", "/readyz")[0], 200)
    check("metrics need a token", call("GET", "/metrics")[0], 401)
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
    conn.request("GET", "/metrics", headers={"Authorization": "Bearer " + viewer})
    r = conn.getresponse()
    text = r.read().decode()
    exercised.add(("GET", "/metrics"))
    check("metrics with a viewer token: Prometheus text with the status gauge",
          (r.status, 'ledgersync_integration_status{integration="acme",status="active"} 1' in text
           or 'ledgersync_integration_status{integration="acme",status="error"} 1' in text),
          (200, True))

    # Webhook subscriptions: admins only; the secret is shown once; the same rules as the CLI.
    check("a viewer may not list webhooks", call("GET", "/api/v1/webhooks", viewer)[0], 403)
    status, _, doc = call("POST", "/api/v1/webhooks", admin,
                          {"url": "http://127.0.0.1:9/hook", "events": ["run_failed"]})
    check("admin adds a webhook: 201 with its secret", (status, doc["secret"][:6]),
          (201, "whsec_"))
    hook_id = doc["id"]
    check("file:// is refused", call("POST", "/api/v1/webhooks", admin,
                                     {"url": "file:///etc/passwd", "events": ["*"]})[0], 400)
    check("an unknown event is refused", call("POST", "/api/v1/webhooks", admin,
                                              {"url": "https://h.example/", "events": ["boom"]})[0],
          400)
    status, _, doc = call("GET", "/api/v1/webhooks", admin)
    check("listed, without a secret", (status, "secret" in json.dumps(doc)), (200, False))
    check("its deliveries", call("GET", "/api/v1/webhooks/%s/deliveries" % hook_id, admin)[0], 200)
    check("resume", call("POST", "/api/v1/webhooks/%s/resume" % hook_id, admin)[0], 200)
    check("remove", call("DELETE", "/api/v1/webhooks/%s" % hook_id, admin)[0], 204)
    check("an unknown id is 404", call("DELETE", "/api/v1/webhooks/%s" % hook_id, admin)[0], 404)

    # Pushing (stripe, customers): admins only; accepted all or none, each problem listed; the
    # items paged with their status and the vendor's id.
    cli("add", "pay", "--connector", "stripe", "--base-url", base + "/stripe", "--api-key-file",
        key, "--schedule", "manual", "--manual-burst", "20")
    items = [{"external_id": "A-%d" % i, "fields": {"name": "Api Customer %d" % i,
                                                   "email": "a%d@example.com" % i}}
             for i in range(1, 4)]
    push_path = "/api/v1/integrations/pay/push"
    check("viewer push is forbidden",
          call("POST", push_path, viewer, {"entity": "customer", "items": items})[0], 403)
    check("no token push", call("POST", push_path, None, {"entity": "customer", "items": items})[0],
          401)
    check("...nothing accepted by either",
          call("GET", "/api/v1/integrations/pay/pushes", viewer)[2]["items"], [])
    bad_items = [{"external_id": "B-1", "fields": {"email": "b@example.com"}},
                 {"fields": {"name": "no key"}},
                 {"external_id": "B-3", "fields": {"name": "x", "currency": "GBP"}},
                 {"external_id": "B-4", "fields": {"name": "fine"}}]
    status, _, doc = call("POST", push_path, admin, {"entity": "customer", "items": bad_items})
    message = doc["error"]["message"] + " " + str(doc["error"].get("hint")) if doc else ""
    check("bad items: 400, nothing accepted",
          (status, doc["error"]["code"], "nothing was accepted: 3 problem" in message),
          (400, "invalid_argument", True))
    check("...every problem listed in the message, by item",
          ("items/0: fields.name: is missing" in message, "items/1: external_id: is missing" in
           message, "B-3: fields.currency: Stripe sets" in message), (True, True, True))
    check("...none of the items kept",
          call("GET", "/api/v1/integrations/pay/pushes", viewer)[2]["items"], [])
    status, _, doc = call("POST", push_path, admin, {"entity": "widget", "items": items})
    check("an unknown entity is 400", (status, doc["error"]["code"]), (400, "invalid_argument"))
    status, _, doc = call("POST", push_path, admin, {"entity": "customer"})
    check("no items nor retry is 400", status, 400)
    status, _, doc = call("POST", push_path, admin, {"entity": "customer", "items": items})
    check("admin push: 202 with the items and the run that sends them",
          (status, doc["accepted"], [i["external_id"] for i in doc["items"]], "run_id" in doc),
          (202, 3, ["A-1", "A-2", "A-3"], True))
    seqs = [i["seq"] for i in doc["items"]]
    status, _, done = call("GET", "/api/v1/integrations/pay/runs/%d/wait?timeout=20s"
                           % doc["run_id"], viewer)
    check("...the run ends", (status, done["done"]), (200, True))
    status, _, doc = call("POST", push_path, admin, {"entity": "customer", "items": items[:1]})
    check("the same item again is unchanged, nothing sent", (status, doc["accepted"],
          doc["unchanged"], doc["items"][0].get("unchanged")), (202, 0, 1, True))
    status, _, doc = call("GET", "/api/v1/integrations/pay/pushes", viewer)
    check("pushes: each succeeded with Stripe's id",
          (status, [(i["external_id"], i["status"], i.get("vendor_id", "")[:4])
                    for i in doc["items"]], doc["counts"].get("succeeded"), doc["next_after"]),
          (200, [("A-1", "succeeded", "cus_"), ("A-2", "succeeded", "cus_"),
                 ("A-3", "succeeded", "cus_")], 3, None))
    status, _, doc = call("GET", "/api/v1/integrations/pay/pushes?limit=2", viewer)
    check("paged: two, and where the next page starts",
          (status, [i["seq"] for i in doc["items"]], doc["next_after"]), (200, seqs[:2], seqs[1]))
    status, _, doc = call("GET", "/api/v1/integrations/pay/pushes?limit=2&after=%d"
                          % doc["next_after"], viewer)
    check("...the last page says so (next_after is null)",
          (status, [i["seq"] for i in doc["items"]], doc["next_after"]), (200, seqs[2:], None))
    status, _, doc = call("GET", "/api/v1/integrations/pay/pushes?external_id=A-2", viewer)
    check("by external_id", (status, [i["external_id"] for i in doc["items"]]), (200, ["A-2"]))
    status, _, doc = call("GET", "/api/v1/integrations/pay/pushes?status=failed", viewer)
    check("by status", (status, doc["items"]), (200, []))
    status, _, doc = call("GET", "/api/v1/integrations/pay/pushes?entity=invoice", viewer)
    check("by entity", (status, doc["items"]), (200, []))
    status, _, doc = call("GET", "/api/v1/integrations/pay/pushes?entity=customer&status=succeeded"
                          "&limit=1", viewer)
    check("filters together, paged", (status, len(doc["items"]), doc["next_after"]),
          (200, 1, seqs[0]))
    for query in ("status=bogus", "after=-1", "limit=0"):
        status, _, doc = call("GET", "/api/v1/integrations/pay/pushes?" + query, viewer)
        check("pushes?%s is 400" % query, status, 400)
    check("pushes without a token", call("GET", "/api/v1/integrations/pay/pushes")[0], 401)
    check("pushes of an unknown integration",
          call("GET", "/api/v1/integrations/nope/pushes", viewer)[0], 404)
    status, _, doc = call("POST", push_path, admin, {"retry": seqs[0]})
    check("retry of a succeeded item is refused, saying so",
          (status, "is succeeded" in doc["error"]["message"]), (400, True))
    status, _, doc = call("POST", "/api/v1/integrations/acme/push", admin,
                          {"entity": "customer", "items": items})
    check("a kind that cannot push is refused, naming it",
          (status, "cannot push records" in doc["error"]["message"]), (400, True))

    # Every operation in the spec was exercised.
    missing = sorted("%s %s" % (m.upper(), p) for p, ops in spec["paths"].items()
                     for m in ops if m in ("get", "post", "patch", "delete")
                     and (m.upper(), p) not in exercised)
    check("every operation of the spec was exercised", missing, [])
finally:
    for p in reversed(procs):
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(work, ignore_errors=True)
print("api: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
