"""What bench/bench.py's sections stand on: the sandbox, the service and the CLI as real
processes (every one killed at the end), the HTTP API client, /proc readings, medians and the
table's rows. Python stdlib only."""
import datetime
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

STREAMS = [{"name": "customers", "path": "/v1/customers", "entity": "customer", "records": "/data",
            "id": "/id", "updated_at": "/updated_at", "total": "/total",
            "required": ["/name", "/email"], "incremental": {"param": "updated_since"},
            "pagination": {"style": "cursor", "field": "/next_cursor", "param": "cursor"},
            "page_size": {"param": "limit", "value": 500}}]


def log(line):  # progress goes to stderr; stdout gets the one table
    print(line, file=sys.stderr, flush=True)


def secs(iso):
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def mem_kb(pid):
    """VmRSS and RssAnon of a process, in kB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon"):
                out[k] = int(v.split()[0])
    return out["VmRSS"], out["RssAnon"]


class Harness:
    def __init__(self, a, size):
        self.bin, self.bench_sync, self.runs = a.bin, a.bench_sync, a.runs
        self.results = os.path.dirname(os.path.abspath(a.out))
        self.size = size
        self.work = tempfile.mkdtemp(prefix="ledgersync-bench-", dir="/tmp")
        self.procs = []
        self.rows = []  # (section, what, figure, unit, comment)
        self.notes = []
        self.svc = None
        self.sandboxes = {}
        self.lock = threading.Lock()
        self.cached = {}  # integrations -> a stopped service's data dir holding that many idle ones

    # ---- processes -------------------------------------------------------------------------
    def spawn(self, args, log, **kw):
        p = subprocess.Popen(args, stdout=open(log, "ab"), stderr=subprocess.STDOUT, **kw)
        self.procs.append(p)
        return p

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    def sandbox(self, records):
        """One sandbox per record count for the whole run (they hold no state a run changes)."""
        if records not in self.sandboxes:
            log = os.path.join(self.work, "sandbox-%d.log" % records)
            self.spawn([self.bin, "sandbox", "--port", "0", "--records", str(records),
                        "--seed", "7"], log)
            port = self.wait_for(lambda: self.port_in(log), "sandbox to listen")
            self.sandboxes[records] = "http://127.0.0.1:%s" % port
        return self.sandboxes[records]

    @staticmethod
    def port_in(log):
        with open(log) as f:
            text = f.read()
        i = text.find("http://127.0.0.1:")
        return text[i + 17:].split()[0] if i >= 0 else None

    @staticmethod
    def wait_for(fn, what, limit=60):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            v = fn()
            if v:
                return v
            time.sleep(0.01)
        raise RuntimeError("timed out waiting for " + what)

    def start_service(self, data=None):
        """A service on DATA (a fresh dir when None); returns seconds to the first `list --json`
        that succeeds, which is how a script or the page first sees it."""
        self.stop_service()
        if data is None:
            data = tempfile.mkdtemp(prefix="data-", dir=self.work)
        sj = os.path.join(data, "service.json")
        if os.path.exists(sj):
            os.remove(sj)
        self.data = data
        t0 = time.monotonic()
        self.svc = self.spawn([self.bin, "serve", "--data-dir", data, "--listen", "127.0.0.1:0",
                               "--http-listen", "127.0.0.1:0"],
                              os.path.join(self.work, "serve.log"))
        self.wait_for(lambda: self.cli("list", "--json", check=False).returncode == 0,
                      "the service's first answer")
        started = time.monotonic() - t0
        with open(sj) as f:
            self.http_port = json.load(f)["http_port"]
        self.tokens, self.pool = 0, []
        return started

    def new_token(self):
        """A fresh admin token. The HTTP API admits 60 requests at once per token, then 10 a
        second; the harness drives thousands, so its clients take a new token every 55 (made
        ahead by make_tokens, so making them costs no measured time). One at a time: two
        `token create` processes at once can lose one of the two tokens."""
        with self.lock:
            if self.pool:
                return self.pool.pop()
            return self._create_token()

    def make_tokens(self, requests):
        with self.lock:
            for _ in range(requests // Api.PER_TOKEN + 8):
                self.pool.append(self._create_token())

    def _create_token(self):
        self.tokens += 1
        tok = self.cli("token", "create", "--role", "admin", "--name", "bench%d" % self.tokens,
                       "--json")
        return json.loads(tok.stdout)["token"]

    def stop_service(self):
        if self.svc and self.svc.poll() is None:
            self.svc.send_signal(signal.SIGTERM)
            try:
                self.svc.wait(40)
            except subprocess.TimeoutExpired:
                self.svc.kill()
                self.svc.wait()
        self.svc = None

    def cli(self, *args, check=True):
        env = dict(os.environ, LEDGERSYNC_DATA_DIR=self.data)
        r = subprocess.run([self.bin, *args], capture_output=True, text=True, env=env)
        if check and r.returncode:
            raise RuntimeError("ledgersync %s: exit %d: %s" % (" ".join(args), r.returncode,
                                                                r.stderr.strip()))
        return r

    def timed_cli(self, *args):
        t0 = time.monotonic()
        r = self.cli(*args)
        return time.monotonic() - t0, r

    def api(self):
        return Api(self.http_port, self.new_token)

    def add_many(self, names, base_url, schedule, threads=4):
        """Adds integrations over the HTTP API (the CLI's start-up would dominate at 10,000)."""
        body = lambda n: {"name": n, "connector": "rest", "base_url": base_url,
                          "api_key": "sk_test_sandbox", "schedule": schedule,
                          "streams": STREAMS, "upstream_rate_per_s": 100000,
                          "upstream_burst": 10000, "manual_burst": 100}
        errors = []
        self.make_tokens(len(names))

        def work(part):
            api = self.api()
            for n in part:
                st, doc = api.call("POST", "/api/v1/integrations", body(n))
                if st != 201:
                    errors.append("%s: %d %s" % (n, st, doc))

        ts = [threading.Thread(target=work, args=(names[i::threads],)) for i in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errors:
            raise RuntimeError("adding integrations: " + errors[0])

    def sync_all(self, names, full=True):
        """Starts a sync of each (HTTP, one after another) and waits for every run's record;
        returns the runs."""
        self.make_tokens(2 * len(names))
        api = self.api()
        ids = {}
        for n in names:
            st, doc = api.call("POST", "/api/v1/integrations/%s/sync" % n, {"full": full})
            if st >= 300 or doc.get("outcome") != "started":
                raise RuntimeError("sync %s: %d %s" % (n, st, doc))
            ids[n] = doc["run_id"]
        runs = []
        for n in names:
            while True:
                st, doc = api.call("GET", "/api/v1/integrations/%s/runs/%d/wait?timeout=25s"
                                   % (n, ids[n]))
                if st == 200 and doc.get("done"):
                    runs.append(doc["run"])
                    break
                if st != 200:
                    raise RuntimeError("wait %s: %d %s" % (n, st, doc))
        bad = [r for r in runs if r["status"] != "ok"]
        if bad:
            raise RuntimeError("a run did not succeed: %s" % bad[0])
        return runs

    def row(self, section, what, figure, unit, comment=""):
        self.rows.append((section, what, figure, unit, comment))
        log("  %-52s %12s %-10s %s" % (what, fmt(figure), unit, comment))

    # ---- sections --------------------------------------------------------------------------
    def add_one(self, name, base, *extra):
        """One integration through the CLI: the sandbox's customers stream only, 500-record
        pages, no schedule, upstream rate limits out of the way."""
        streams, key = os.path.join(self.work, "streams.json"), os.path.join(self.work, "key")
        with open(streams, "w") as f:
            json.dump(STREAMS, f)
        with open(key, "w") as f:
            f.write("sk_test_sandbox\n")
        self.cli("add", name, "--base-url", base, "--api-key-file", key, "--streams-file",
                 streams, "--schedule", "manual", "--upstream-rate", "100000",
                 "--upstream-burst", "10000", *extra)

class Api:
    """One keep-alive HTTP client of the service's API."""
    PER_TOKEN = 55

    def __init__(self, port, new_token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.new_token, self.token, self.used = new_token, None, 0

    def call(self, method, path, body=None):
        if self.token is None or self.used >= self.PER_TOKEN:
            self.token, self.used = self.new_token(), 0
        self.used += 1
        h = {"Authorization": "Bearer " + self.token}
        payload = None
        if body is not None:
            payload = json.dumps(body)
            h["Content-Type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=h)
        r = self.conn.getresponse()
        text = r.read().decode()
        return r.status, (json.loads(text) if text else {})


def cpu_s(pid):
    """User + system CPU seconds a process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sandbox_ctl(base, path):
    host, port = base.rsplit("/", 1)[1].split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    c.request("POST", path)
    c.getresponse().read()
    c.close()


def fmt(x):
    if isinstance(x, str):
        return x
    if x != x:
        return "n/a"
    if abs(x) >= 1000:
        return "{:,.0f}".format(x)
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def spread(xs):
    return "min %s max %s" % (fmt(min(xs)), fmt(max(xs))) if xs else ""
