#!/usr/bin/env python3
"""The sync script users write instead of running a service, as the baseline bench/run compares
ledgersync with: urllib + json + sqlite3, one upsert per record, a commit per page, against the
sandbox's Stripe-like list API (GET /v1/STREAM?limit=N&cursor=C, Bearer key). It is kept plain on
purpose: no threads, no batching, sqlite3's defaults (rollback journal, synchronous=FULL), so it
is what a first script looks like, not a tuned one.

Usage: baseline_sync.py BASE_URL DB [--stream customers] [--limit 500] [--api-key KEY]
Prints one JSON line: {"records": N, "pages": P, "seconds": S, "records_per_s": R}."""
import argparse
import json
import sqlite3
import sys
import time
import urllib.parse
import urllib.request


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base_url")
    ap.add_argument("db")
    ap.add_argument("--stream", default="customers")
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--api-key", default="sk_test_sandbox")
    a = ap.parse_args()

    db = sqlite3.connect(a.db)
    db.execute("CREATE TABLE IF NOT EXISTS records (stream TEXT, id TEXT, updated_at TEXT, "
               "body TEXT, PRIMARY KEY (stream, id))")
    db.execute("CREATE TABLE IF NOT EXISTS cursors (stream TEXT PRIMARY KEY, cursor TEXT)")
    db.commit()
    t0 = time.monotonic()
    cursor, records, pages = "", 0, 0
    while True:
        q = {"limit": a.limit}
        if cursor:
            q["cursor"] = cursor
        url = "%s/v1/%s?%s" % (a.base_url, a.stream, urllib.parse.urlencode(q))
        req = urllib.request.Request(url, headers={"Authorization": "Bearer " + a.api_key})
        with urllib.request.urlopen(req, timeout=60) as r:
            page = json.load(r)
        for rec in page["data"]:
            db.execute("INSERT INTO records (stream, id, updated_at, body) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (stream, id) DO UPDATE SET updated_at = excluded.updated_at, "
                       "body = excluded.body", (a.stream, rec["id"], rec["updated_at"],
                                                json.dumps(rec)))
        cursor = page.get("next_cursor") or ""
        db.execute("INSERT OR REPLACE INTO cursors (stream, cursor) VALUES (?, ?)",
                   (a.stream, cursor))
        db.commit()
        records += len(page["data"])
        pages += 1
        if not page.get("has_more"):
            break
    s = time.monotonic() - t0
    print(json.dumps({"records": records, "pages": pages, "seconds": round(s, 4),
                      "records_per_s": round(records / s, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
